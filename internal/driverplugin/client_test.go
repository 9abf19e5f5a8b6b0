package driverplugin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	pb "github.com/mcpauth/mcpauth/internal/driverpb"
	"github.com/mcpauth/mcpauth/provider"
)

// lyingDriver answers whatever the test puts in it: a plugin is untrusted,
// and the host must check what it says.
type lyingDriver struct {
	meta    *provider.AuthServerMetadata
	device  *provider.DeviceAuthorization
	authURL string
	token   *provider.Token
}

func (d *lyingDriver) Describe() provider.Description {
	return provider.Description{Name: "liar", Version: "1", ClientID: "client-1",
		Grants: []provider.Grant{provider.GrantDevice, provider.GrantPKCE}}
}
func (d *lyingDriver) Metadata(context.Context) (*provider.AuthServerMetadata, error) {
	return d.meta, nil
}
func (d *lyingDriver) StartDevice(context.Context, []string) (*provider.DeviceAuthorization, error) {
	return d.device, nil
}
func (d *lyingDriver) PollDevice(context.Context, *provider.DeviceAuthorization) (*provider.Token, error) {
	return d.token, nil
}
func (d *lyingDriver) AuthCodeURL(context.Context, provider.AuthCodeRequest) (string, error) {
	return d.authURL, nil
}
func (d *lyingDriver) Exchange(context.Context, string, string, string) (*provider.Token, error) {
	return d.token, nil
}
func (d *lyingDriver) Refresh(context.Context, *provider.Token) (*provider.Token, error) {
	return d.token, nil
}

const testIssuer = "https://accounts.example.com"

// honest is what a well-behaved plugin for testIssuer answers.
func honest() *lyingDriver {
	return &lyingDriver{
		meta: &provider.AuthServerMetadata{Issuer: testIssuer, AuthorizationEndpoint: testIssuer + "/authorize",
			TokenEndpoint: testIssuer + "/token", DeviceAuthorizationEndpoint: testIssuer + "/device"},
		device: &provider.DeviceAuthorization{DeviceCode: "dc", UserCode: "UC", VerificationURI: "https://www.example.com/device",
			VerificationURIComplete: testIssuer + "/device?user_code=UC", ExpiresAt: time.Now().Add(time.Minute)},
		authURL: testIssuer + "/authorize?client_id=client-1",
		token:   &provider.Token{AccessToken: "at", TokenType: "Bearer"},
	}
}

// connectTo serves d in process over a real gRPC connection and connects
// the host-side client to it, configured for testIssuer.
func connectTo(t *testing.T, d provider.Driver, opts ConnectOptions) *Client {
	t.Helper()
	factory := func(context.Context, provider.DriverConfig) (provider.Driver, error) { return d, nil }
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginName: &grpcPlugin{server: NewServer(factory)}})
	t.Cleanup(func() {
		// Not client.Close: its Shutdown RPC stops the server concurrently
		// with this Stop, a race inside go-plugin's test helper.
		client.Conn.Close()
		server.Stop()
	})
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Connect(context.Background(), raw.(pb.DriverClient), provider.DriverConfig{Issuer: testIssuer, ClientID: "client-1"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The host checks what a plugin answers against the issuer it configured,
// not against what the plugin claims.
func TestClientRefusesWhatAPluginMustNotSay(t *testing.T) {
	ctx := context.Background()
	metadata := func(c *Client) error { _, err := c.Metadata(ctx); return err }
	device := func(c *Client) error { _, err := c.StartDevice(ctx, nil); return err }
	authURL := func(c *Client) error {
		_, err := c.AuthCodeURL(ctx, provider.AuthCodeRequest{State: "s", RedirectURI: "http://127.0.0.1:1/cb"})
		return err
	}
	poll := func(c *Client) error {
		_, err := c.PollDevice(ctx, &provider.DeviceAuthorization{DeviceCode: "dc"})
		return err
	}
	exchange := func(c *Client) error {
		_, err := c.Exchange(ctx, "code", "verifier", "http://127.0.0.1:1/cb")
		return err
	}
	refresh := func(c *Client) error { _, err := c.Refresh(ctx, &provider.Token{RefreshToken: "rt"}); return err }

	for _, tc := range []struct {
		name  string
		lie   func(d *lyingDriver)
		call  func(*Client) error
		want  []string // substrings of the error; nil means it must succeed
		isErr error
	}{
		{"honest metadata", func(*lyingDriver) {}, metadata, nil, nil},
		{"honest device", func(*lyingDriver) {}, device, nil, nil},
		{"honest auth URL", func(*lyingDriver) {}, authURL, nil, nil},
		{"honest poll", func(*lyingDriver) {}, poll, nil, nil},
		{"honest exchange", func(*lyingDriver) {}, exchange, nil, nil},
		{"honest refresh", func(*lyingDriver) {}, refresh, nil, nil},
		{"issuer host in capitals, with its port", func(d *lyingDriver) { d.authURL = "https://ACCOUNTS.example.com:443/authorize" }, authURL, nil, nil},

		{"metadata for another issuer", func(d *lyingDriver) {
			d.meta.Issuer = "https://evil.example.net"
		}, metadata, []string{`"https://evil.example.net"`, `"` + testIssuer + `"`}, provider.ErrIssuerMismatch},
		{"metadata issuer with a trailing slash", func(d *lyingDriver) {
			d.meta.Issuer = testIssuer + "/"
		}, metadata, []string{"issuer"}, provider.ErrIssuerMismatch},
		{"metadata with a plain-http token endpoint", func(d *lyingDriver) {
			d.meta.TokenEndpoint = "http://accounts.example.com/token"
		}, metadata, []string{"token_endpoint"}, ErrInvalidResponse},
		{"verification_uri elsewhere", func(d *lyingDriver) {
			d.device.VerificationURI = "https://evil.example.net/device"
		}, device, []string{"verification_uri", `"evil.example.net"`, `"accounts.example.com"`}, ErrInvalidResponse},
		{"verification_uri on a look-alike", func(d *lyingDriver) {
			d.device.VerificationURI = "https://example.com.evil.example.net/device"
		}, device, []string{"verification_uri"}, ErrInvalidResponse},
		{"verification_uri with the issuer as userinfo", func(d *lyingDriver) {
			d.device.VerificationURI = "https://accounts.example.com@evil.example.net/device"
		}, device, []string{"verification_uri"}, ErrInvalidResponse},
		{"verification_uri over plain http", func(d *lyingDriver) {
			d.device.VerificationURI = "http://accounts.example.com/device"
		}, device, []string{"verification_uri"}, ErrInvalidResponse},
		{"verification_uri_complete elsewhere", func(d *lyingDriver) {
			d.device.VerificationURIComplete = "https://evil.example.net/device?user_code=UC"
		}, device, []string{"verification_uri_complete"}, ErrInvalidResponse},
		{"auth URL elsewhere", func(d *lyingDriver) {
			d.authURL = "https://evil.example.net/authorize"
		}, authURL, []string{"authorization URL", `"evil.example.net"`}, ErrInvalidResponse},
		{"auth URL with a script scheme", func(d *lyingDriver) {
			d.authURL = "javascript:alert(1)"
		}, authURL, []string{"authorization URL"}, ErrInvalidResponse},
		{"empty access token from poll", func(d *lyingDriver) { d.token = &provider.Token{RefreshToken: "rt-secret-value"} }, poll, []string{"PollDevice", "no access token"}, ErrInvalidResponse},
		{"empty access token from exchange", func(d *lyingDriver) { d.token = &provider.Token{RefreshToken: "rt-secret-value"} }, exchange, []string{"Exchange", "no access token"}, ErrInvalidResponse},
		{"empty access token from refresh", func(d *lyingDriver) { d.token = &provider.Token{TokenType: "Bearer", IDToken: "rt-secret-value"} }, refresh, []string{"Refresh", "no access token"}, ErrInvalidResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := honest()
			tc.lie(d)
			err := tc.call(connectTo(t, d, ConnectOptions{}))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("honest answer refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("the host accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			if !errors.Is(err, tc.isErr) {
				t.Errorf("error %q is not %v", err, tc.isErr)
			}
			if strings.Contains(err.Error(), "rt-secret-value") {
				t.Errorf("error quotes a token: %q", err)
			}
		})
	}
}

// hangingDriver never answers Metadata until its context ends.
type hangingDriver struct{ lyingDriver }

func (d *hangingDriver) Metadata(ctx context.Context) (*provider.AuthServerMetadata, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A call whose caller set no deadline still ends: the client bounds every
// RPC, and says the plugin hung (so the supervisor restarts it).
func TestClientBoundsEveryRPC(t *testing.T) {
	c := connectTo(t, &hangingDriver{*honest()}, ConnectOptions{RPCTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := c.Metadata(context.Background())
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Metadata took %s with a 200ms bound", took)
	}
	var te *TransportError
	if !errors.As(err, &te) || te.Timeout != 200*time.Millisecond || !strings.Contains(err.Error(), "did not answer within 200ms") {
		t.Fatalf("err = %v, want a TransportError for a hung plugin", err)
	}

	// The caller's own, shorter deadline is the caller's: no hang reported.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Metadata(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || IsTransport(err) {
		t.Fatalf("caller's deadline: err = %v", err)
	}
}
