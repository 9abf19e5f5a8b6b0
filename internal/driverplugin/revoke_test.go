package driverplugin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	pb "github.com/mcpauth/mcpauth/internal/driverpb"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/internal/optest/nodeop"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

// fakeDriver is a driver without network and without revocation;
// revokingDriver adds it.
type fakeDriver struct{ name string }

func (f *fakeDriver) Describe() provider.Description {
	return provider.Description{Name: f.name, Version: "1", ClientID: "c", Grants: []provider.Grant{provider.GrantDevice}}
}

func (f *fakeDriver) Metadata(context.Context) (*provider.AuthServerMetadata, error) {
	return &provider.AuthServerMetadata{Issuer: "https://as.example", TokenEndpoint: "https://as.example/token"}, nil
}

type revokingDriver struct {
	fakeDriver
	mu     sync.Mutex
	got    []*provider.Token
	answer error
}

func (r *revokingDriver) Revoke(_ context.Context, t *provider.Token) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, t)
	return r.answer
}

// servedBy connects a Client to srv over gRPC in process.
func servedBy(t *testing.T, srv pb.DriverServer, cfg provider.DriverConfig) *Client {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginName: &testPlugin{srv: srv}})
	t.Cleanup(func() {
		// Stop first: Close asks the server to shut down over gRPC, and
		// go-plugin's test server races that Stop against this one.
		server.Stop()
		client.Close()
	})
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Connect(context.Background(), raw.(pb.DriverClient), cfg, ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testPlugin serves any DriverServer (an old plugin's, say).
type testPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv pb.DriverServer
}

func (p *testPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterDriverServer(s, p.srv)
	return nil
}

func (p *testPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pb.NewDriverClient(c), nil
}

func factoryOf(d provider.Driver) provider.DriverFactory {
	return func(context.Context, provider.DriverConfig) (provider.Driver, error) { return d, nil }
}

// Revoke crosses the plugin boundary with the token whole, and its errors
// come back typed.
func TestRevokeRPC(t *testing.T) {
	d := &revokingDriver{fakeDriver: fakeDriver{name: "rev"}}
	c := servedBy(t, NewServer(factoryOf(d)), provider.DriverConfig{Issuer: "https://as.example", ClientID: "c"})
	if !c.Serves("Revoke") || c.Minor() != ProtocolMinor {
		t.Fatalf("Serves(Revoke) = %v, minor %d", c.Serves("Revoke"), c.Minor())
	}
	tok := &provider.Token{AccessToken: "a", TokenType: "Bearer", RefreshToken: "r", Expiry: time.Unix(1_700_000_000, 0), Scopes: []string{"s"}}
	if err := c.Revoke(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if len(d.got) != 1 || d.got[0].AccessToken != "a" || d.got[0].RefreshToken != "r" || !d.got[0].Expiry.Equal(tok.Expiry) {
		t.Fatalf("driver got %v", d.got)
	}

	// What drivers/oidc returns when both requests fail.
	d.answer = errors.Join(
		fmt.Errorf("oidc: revoking the refresh token: %w", &provider.OAuthError{Endpoint: "revocation", Code: "invalid_client", Description: "who are you", StatusCode: 401}),
		fmt.Errorf("oidc: revoking the access token: %w", &provider.OAuthError{Endpoint: "revocation", Code: "invalid_client", Description: "who are you", StatusCode: 401}))
	err := c.Revoke(context.Background(), tok)
	var oe *provider.OAuthError
	if !errors.As(err, &oe) || oe.Endpoint != "revocation" || oe.Description != "who are you" || !errors.Is(err, provider.ErrInvalidClient) {
		t.Fatalf("Revoke = %#v, want the OAuthError back", err)
	}

	d.answer = fmt.Errorf("oidc: https://as.example advertises no revocation_endpoint: %w", provider.ErrRevocationUnsupported)
	if err := c.Revoke(context.Background(), tok); !errors.Is(err, provider.ErrRevocationUnsupported) {
		t.Fatalf("Revoke = %v, want ErrRevocationUnsupported", err)
	}
}

// A driver without revocation does not list Revoke; the host does not call.
func TestRevokeNotServed(t *testing.T) {
	c := servedBy(t, NewServer(factoryOf(&fakeDriver{name: "plain"})), provider.DriverConfig{Issuer: "https://as.example", ClientID: "c"})
	if c.Serves("Revoke") {
		t.Fatal("a driver without Revoke lists it")
	}
	if err := c.Revoke(context.Background(), &provider.Token{AccessToken: "a"}); !errors.Is(err, provider.ErrRevocationUnsupported) {
		t.Fatalf("Revoke = %v, want ErrRevocationUnsupported", err)
	}
	// Called anyway, the server says the same, typed.
	_, err := configuredServer(t, &fakeDriver{name: "plain"}).Revoke(context.Background(), &pb.RevokeRequest{Token: &pb.Token{AccessToken: "a"}})
	if got, _ := fromStatus(err); !errors.Is(got, provider.ErrRevocationUnsupported) {
		t.Fatalf("server Revoke = %v", err)
	}
}

// configuredServer returns a Server already configured with d.
func configuredServer(t *testing.T, d provider.Driver) *Server {
	t.Helper()
	s := NewServer(factoryOf(d))
	if _, err := s.Configure(context.Background(), &pb.ConfigureRequest{ClientId: "c"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// oldPlugin is a plugin built against protocol minor 0: its driver could
// revoke, but it knows no Revoke RPC, so its Capabilities never list it
// and a Revoke call would be Unimplemented.
type oldPlugin struct {
	*Server
	mu      sync.Mutex
	revokes int
}

func (o *oldPlugin) Capabilities(ctx context.Context, req *pb.CapabilitiesRequest) (*pb.CapabilitiesResponse, error) {
	resp, err := o.Server.Capabilities(ctx, req)
	if err != nil {
		return nil, err
	}
	resp.Minor = 0
	var rpcs []string
	for _, r := range resp.GetRpcs() {
		if r != "Revoke" {
			rpcs = append(rpcs, r)
		}
	}
	resp.Rpcs = rpcs
	return resp, nil
}

func (o *oldPlugin) Revoke(context.Context, *pb.RevokeRequest) (*pb.RevokeResponse, error) {
	o.mu.Lock()
	o.revokes++
	o.mu.Unlock()
	return nil, status.Error(codes.Unimplemented, "method Revoke not implemented")
}

func TestRevokeOldPlugin(t *testing.T) {
	old := &oldPlugin{Server: NewServer(factoryOf(&revokingDriver{fakeDriver: fakeDriver{name: "old"}}))}
	c := servedBy(t, old, provider.DriverConfig{Issuer: "https://as.example", ClientID: "c"})
	if c.Minor() != 0 || c.Serves("Revoke") {
		t.Fatalf("old plugin: minor %d, Serves(Revoke) %v", c.Minor(), c.Serves("Revoke"))
	}
	err := c.Revoke(context.Background(), &provider.Token{AccessToken: "a", RefreshToken: "r"})
	if !errors.Is(err, provider.ErrRevocationUnsupported) || IsTransport(err) {
		t.Fatalf("Revoke on an old plugin = %v, want ErrRevocationUnsupported", err)
	}
	if old.revokes != 0 {
		t.Fatalf("the host called Revoke on a plugin that does not list it (%d calls)", old.revokes)
	}
}

// The generic driver served over the protocol revokes at a real
// authorization server: oidc-provider's introspection flips to inactive.
func TestRevokeThroughPluginRealOP(t *testing.T) {
	op := nodeop.Start(t, nodeop.Options{})
	c := servedBy(t, NewServer(oidc.Registration.New), provider.DriverConfig{
		Issuer: op.Issuer, ClientID: op.ClientID, Scopes: []string{"openid", "offline_access"}})
	if !c.Serves("Revoke") {
		t.Fatal("the oidc driver does not serve Revoke")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l := &login.Login{
		Preference: login.PreferDevice,
		Device:     login.DevicePoller{Sleep: (&logintest.ShortSleep{}).Sleep},
		ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error {
			return op.ApproveDevice(ctx, da.UserCode)
		},
	}
	tok, err := l.Run(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	active := func(what, token string, want bool) {
		t.Helper()
		in, err := op.Introspect(ctx, token)
		if err != nil || in.Active != want {
			t.Fatalf("%s: introspection %+v, %v; want active %v", what, in, err, want)
		}
	}
	active("access token before Revoke", tok.AccessToken, true)
	active("refresh token before Revoke", tok.RefreshToken, true)
	if err := c.Revoke(ctx, tok); err != nil {
		t.Fatal(err)
	}
	active("access token after Revoke", tok.AccessToken, false)
	active("refresh token after Revoke", tok.RefreshToken, false)
	if _, err := c.Refresh(ctx, tok); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("Refresh after Revoke = %v, want invalid_grant", err)
	}
}
