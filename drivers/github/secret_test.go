package github_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/github"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// TestClientSecretDecidesPKCE: GitHub does not distinguish public from
// confidential clients, so its code exchange needs client_secret even with
// PKCE. Without a configured secret the driver rules PKCE out (auto then
// picks the device grant even with a browser at hand) and says why; with
// one, the PKCE login works.
func TestClientSecretDecidesPKCE(t *testing.T) {
	desktop := login.Environment{GOOS: "darwin"}
	tests := []struct {
		name   string
		secret string
		want   []provider.Grant
		auto   provider.Grant
	}{
		{"no client secret: device only", "", []provider.Grant{provider.GrantDevice}, provider.GrantDevice},
		{"client secret: PKCE first", "s3cret", []provider.Grant{provider.GrantPKCE, provider.GrantDevice}, provider.GrantPKCE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGitHub(t, nil)
			d := newDriver(t, f, func(c *github.Config) { c.ClientSecret = tt.secret })
			desc := d.Describe()
			if !slices.Equal(desc.Grants, tt.want) {
				t.Fatalf("Grants = %v, want %v", desc.Grants, tt.want)
			}
			quirks := strings.Join(desc.Quirks, "\n")
			if tt.secret == "" && !strings.Contains(quirks, "the code exchange needs client_secret") {
				t.Errorf("no quirk says why PKCE is ruled out:\n%s", quirks)
			}
			if strings.Contains(quirks, "s3cret") {
				t.Error("the description quotes the client secret")
			}
			meta, _ := d.Metadata(logintest.Context(t))
			choice, err := login.SelectGrant(login.PreferAuto, desc, meta, desktop)
			if err != nil || choice.Grant != tt.auto {
				t.Fatalf("auto on a desktop = %+v, %v; want %s", choice, err, tt.auto)
			}
			if tt.secret == "" {
				if _, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil); !errors.Is(err, provider.ErrGrantUnsupported) {
					t.Fatalf("grant: pkce without a secret: err = %v, want ErrGrantUnsupported", err)
				}
				return
			}
			if _, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestIncorrectClientCredentials: the hint names what is wrong: the missing
// client secret when none is configured, the client ID and secret otherwise.
// Neither the secret nor the response body appears in the error.
func TestIncorrectClientCredentials(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const redirect = "http://127.0.0.1:5555/callback"
	tests := []struct {
		name, secret string
		contains     []string
	}{
		{"no client secret configured", "", []string{"set client_secret", "even with PKCE"}},
		{"wrong client secret", "wr0ng-s3cret", []string{"Client ID", "client secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGitHub(t, nil)
			d := newDriver(t, f, func(c *github.Config) { c.ClientSecret = tt.secret })
			code := logintest.AuthorizationCode(t, d, logintest.S256(verifier), redirect)
			_, err := d.(provider.CodeExchanger).Exchange(logintest.Context(t), code, verifier, redirect)
			var oe *provider.OAuthError
			if !errors.Is(err, provider.ErrInvalidClient) || !errors.As(err, &oe) || oe.Code != "incorrect_client_credentials" {
				t.Fatalf("err = %v, want incorrect_client_credentials", err)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error quotes the secret: %v", err)
			}
		})
	}
}

// TestExpiringTokens: GitHub App user tokens, and OAuth App tokens with the
// expiration setting on, expire after 8 h with a rotating refresh token.
// A web-flow token's refresh needs the client secret; a device-flow token's
// does not, so a driver without a secret still refreshes it.
func TestExpiringTokens(t *testing.T) {
	tests := []struct {
		name      string
		githubApp bool
		device    bool
		secret    string
	}{
		{"GitHub App, web flow", true, false, "s3cret"},
		{"OAuth App with expiring tokens, web flow", false, false, "s3cret"},
		{"OAuth App with expiring tokens, device flow, no secret", false, true, ""},
		{"GitHub App, device flow, no secret", true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGitHub(t, func(f *fakeGitHub) { f.githubApp, f.expiring = tt.githubApp, !tt.githubApp })
			d := newDriver(t, f, func(c *github.Config) { c.ClientSecret = tt.secret })
			var tok *provider.Token
			var err error
			if tt.device {
				tok, err = deviceLogin(t, f, d)
			} else {
				tok, err = logintest.PKCELogin(t, d, login.PreferPKCE, []string{"repo"})
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken == "" || tok.Expiry.IsZero() {
				t.Fatalf("token = %v, want an expiry and a refresh token", tok)
			}
			if !tt.githubApp && !slices.Equal(tok.Scopes, []string{"repo"}) {
				t.Errorf("scopes = %q", tok.Scopes)
			}
			key := tokenstore.Key{Issuer: f.URL, ClientID: f.clientID, Subject: "583231"}
			fresh := logintest.RefreshRotates(t, d, key, tok)
			if _, err := d.(provider.Identifier).Identity(logintest.Context(t), fresh); err != nil {
				t.Fatalf("refreshed token refused: %v", err)
			}
			if !tt.githubApp && !slices.Equal(fresh.Scopes, tok.Scopes) {
				t.Errorf("refresh changed the scopes: %q → %q", tok.Scopes, fresh.Scopes)
			}
		})
	}
	t.Run("web-flow refresh without the secret", func(t *testing.T) {
		f := newFakeGitHub(t, func(f *fakeGitHub) { f.expiring = true })
		tok, err := logintest.PKCELogin(t, newDriver(t, f, nil), login.PreferPKCE, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = newDriver(t, f, func(c *github.Config) { c.ClientSecret = "" }).(provider.Refresher).Refresh(logintest.Context(t), tok)
		if !errors.Is(err, provider.ErrInvalidClient) || !strings.Contains(err.Error(), "set client_secret") {
			t.Fatalf("err = %v, want incorrect_client_credentials naming client_secret", err)
		}
	})
}

// deviceLogin runs the device flow against f, approving at once.
func deviceLogin(t *testing.T, f *fakeGitHub, d provider.Driver) (*provider.Token, error) {
	t.Helper()
	ctx := logintest.Context(t)
	da, err := d.(provider.DeviceAuthorizer).StartDevice(ctx, []string{"repo"})
	if err != nil {
		return nil, err
	}
	if err := f.devices.Approve(da.UserCode); err != nil {
		t.Fatal(err)
	}
	p := &login.DevicePoller{Sleep: (&logintest.FastSleep{}).Sleep}
	return p.Poll(ctx, d.(provider.DeviceAuthorizer), da)
}

// TestAPIs: the driver declares where its tokens may be sent: github.com's
// REST and uploads hosts, or an Enterprise Server's /api/v3 and
// /api/uploads.
func TestAPIs(t *testing.T) {
	tests := []struct {
		name string
		cfg  github.Config
		want []string
	}{
		{"github.com", github.Config{}, []string{"https://api.github.com", "https://uploads.github.com"}},
		{"GitHub Enterprise Server", github.Config{BaseURL: "https://ghe.example.com"},
			[]string{"https://ghe.example.com/api/v3", "https://ghe.example.com/api/uploads"}},
		{"Enterprise Server with an explicit API URL", github.Config{BaseURL: "https://ghe.example.com", APIURL: "https://api.ghe.example.com"},
			[]string{"https://api.ghe.example.com", "https://ghe.example.com/api/uploads"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.ClientID = "Iv1.x"
			d, err := github.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Describe().APIs; !slices.Equal(got, tt.want) {
				t.Fatalf("APIs = %q, want %q", got, tt.want)
			}
		})
	}
}
