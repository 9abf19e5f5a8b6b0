package gitlab_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/drivers/gitlab"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// newDriver builds the driver for the fake as a host does for a
// self-managed instance (driver: gitlab), with its own discovery cache.
func newDriver(t *testing.T, f *fakeGitLab, configure func(*gitlab.Config)) *gitlab.Driver {
	t.Helper()
	disc := &discovery.Discoverer{}
	cfg := gitlab.Config{Issuer: f.URL, ClientID: f.clientID, Discover: func(ctx context.Context, iss string) (*provider.AuthServerMetadata, error) {
		return disc.AuthServer(ctx, iss)
	}}
	if configure != nil {
		configure(&cfg)
	}
	d, err := gitlab.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// deviceLogin runs a device login through login.Login, approving after
// approveAt polls.
func deviceLogin(t *testing.T, f *fakeGitLab, d provider.Driver, scopes []string, approveAt int) (*provider.Token, *provider.DeviceAuthorization, *logintest.FastSleep, error) {
	t.Helper()
	sleep := &logintest.FastSleep{}
	var shown *provider.DeviceAuthorization
	l := &login.Login{
		Preference: login.PreferDevice,
		Device: login.DevicePoller{Sleep: sleep.Sleep, OnProgress: func(p login.DeviceProgress) {
			if p.Polls == approveAt {
				f.devices.Approve(shown.UserCode)
			}
		}},
		ShowDevice: func(_ context.Context, da *provider.DeviceAuthorization) error { shown = da; return nil },
	}
	tok, err := l.Run(logintest.Context(t), d, scopes)
	return tok, shown, sleep, err
}

func TestDeviceLogin(t *testing.T) {
	for _, listed := range []bool{false, true} {
		name := map[bool]string{false: "endpoint not in the discovery document (gitlab.com)", true: "endpoint listed"}[listed]
		t.Run(name, func(t *testing.T) {
			f := newFakeGitLab(t, func(f *fakeGitLab) { f.listsDevice = listed })
			d := newDriver(t, f, nil)
			start := time.Now()
			tok, da, sleep, err := deviceLogin(t, f, d, []string{"read_api", "read_user"}, 2)
			if err != nil {
				t.Fatal(err)
			}
			if da.VerificationURI != f.URL+"/oauth/device" || !strings.Contains(da.VerificationURIComplete, da.UserCode) || da.Interval != 5*time.Second {
				t.Errorf("device authorization = %v", da)
			}
			if dev, _ := f.devices.ByUserCode(da.UserCode); dev.Scope != "read_api read_user" {
				t.Errorf("requested scope = %q (GitLab scopes are space-separated)", dev.Scope)
			}
			if f.Requests("/oauth/authorize_device") != 1 || f.Requests("/oauth/token") != 3 || len(sleep.Waited()) != 3 {
				t.Errorf("device requests %d, token requests %d, intervals %d; want 1, 3, 3",
					f.Requests("/oauth/authorize_device"), f.Requests("/oauth/token"), len(sleep.Waited()))
			}
			if tok.RefreshToken == "" || !slices.Equal(tok.Scopes, []string{"read_api", "read_user"}) {
				t.Fatalf("token = %v", tok)
			}
			if life := tok.Expiry.Sub(start); life < 2*time.Hour-time.Minute || life > 2*time.Hour+time.Minute {
				t.Errorf("token lives %v, want GitLab's 2 h", life)
			}
			id, err := d.Identity(logintest.Context(t), tok)
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "4242" || id.DisplayName != "alice" || f.Requests("/api/v4/user") != 1 {
				t.Fatalf("identity = %+v (GET /api/v4/user: %d)", id, f.Requests("/api/v4/user"))
			}
		})
	}
}

func TestDeviceErrors(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *fakeGitLab, da *provider.DeviceAuthorization)
		want   error
		code   string
		status int
	}{
		{"authorization_pending", nil, provider.ErrAuthorizationPending, "authorization_pending", 400},
		{"slow_down", func(f *fakeGitLab, _ *provider.DeviceAuthorization) {
			f.set(func(f *fakeGitLab) { f.slowDowns = []int{1} })
		},
			provider.ErrSlowDown, "slow_down", 400},
		{"access_denied", func(f *fakeGitLab, da *provider.DeviceAuthorization) { f.devices.Deny(da.UserCode) }, provider.ErrAccessDenied, "access_denied", 400},
		{"expired_token", func(f *fakeGitLab, da *provider.DeviceAuthorization) { f.devices.Expire(da.UserCode) }, provider.ErrExpiredToken, "expired_token", 400},
		{"unknown device code", func(_ *fakeGitLab, da *provider.DeviceAuthorization) { da.DeviceCode = "bogus" }, provider.ErrInvalidGrant, "invalid_grant", 400},
		{"application made confidential", func(f *fakeGitLab, _ *provider.DeviceAuthorization) {
			f.set(func(f *fakeGitLab) { f.confidential = true })
		}, provider.ErrInvalidClient, "invalid_client", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGitLab(t, nil)
			d := newDriver(t, f, nil)
			ctx := logintest.Context(t)
			da, err := d.StartDevice(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(f, da)
			}
			_, err = d.PollDevice(ctx, da)
			var oe *provider.OAuthError
			if !errors.Is(err, tt.want) || !errors.As(err, &oe) || oe.Code != tt.code || oe.StatusCode != tt.status {
				t.Fatalf("err = %v, want %s (%v) [HTTP %d]", err, tt.code, tt.want, tt.status)
			}
			if strings.Contains(err.Error(), "device_code") && strings.Contains(err.Error(), da.DeviceCode) {
				t.Errorf("error quotes the device code: %v", err)
			}
		})
	}
}

// TestDeviceGrantNotServed: an instance without the device grant answers
// 404; the error says which GitLab version is needed, the driver stops
// offering the grant, and an auto login then takes the browser.
func TestDeviceGrantNotServed(t *testing.T) {
	f := newFakeGitLab(t, func(f *fakeGitLab) { f.noDevice = true })
	d := newDriver(t, f, nil)
	ctx := logintest.Context(t)
	for range 2 {
		_, err := d.StartDevice(ctx, nil)
		if !errors.Is(err, provider.ErrGrantUnsupported) || !strings.Contains(err.Error(), "17.2") ||
			!strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "<html") {
			t.Fatalf("err = %v", err)
		}
	}
	if n := f.Requests("/oauth/authorize_device"); n != 1 {
		t.Errorf("device endpoint asked %d times, want once", n)
	}
	if d.Describe().Offers(provider.GrantDevice) {
		t.Error("Describe still offers the device grant")
	}
	r, err := d.WithClientID("https://app.example.com/cimd.json")
	if err != nil || r.Describe().Offers(provider.GrantDevice) {
		t.Fatalf("rebound driver: %v, grants %v", err, r.Describe().Grants)
	}
	tok, err := logintest.PKCELogin(t, d, login.PreferAuto, nil)
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("auto login after the 404: %v", err)
	}
}

func TestPKCELoginAndRotation(t *testing.T) {
	f := newFakeGitLab(t, nil)
	d := newDriver(t, f, func(c *gitlab.Config) { c.Scopes = []string{"api", "openid"} })
	ctx := logintest.Context(t)
	tok, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.IDToken == "" || !slices.Equal(tok.Scopes, []string{"api", "openid"}) {
		t.Fatalf("token = %v", tok)
	}
	id, err := d.Identity(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	key := tokenstore.Key{Issuer: f.URL, ClientID: f.clientID, Subject: id.Subject}
	fresh := logintest.RefreshRotates(t, d, key, tok)
	// Both old tokens are spent.
	if _, err := d.Refresh(ctx, tok); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("reused refresh token: err = %v, want invalid_grant", err)
	}
	if _, err := d.Identity(ctx, &provider.Token{AccessToken: tok.AccessToken}); err == nil || !strings.Contains(err.Error(), "HTTP 401: invalid_token") {
		t.Fatalf("old access token at the API: err = %v, want 401 invalid_token", err)
	}
	if id2, err := d.Identity(ctx, fresh); err != nil || id2.Subject != id.Subject {
		t.Fatalf("identity with the fresh token = %+v, %v", id2, err)
	}
}

func TestPKCEExchangeErrors(t *testing.T) {
	f := newFakeGitLab(t, nil)
	d := newDriver(t, f, nil)
	ctx := logintest.Context(t)
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const redirect = "http://127.0.0.1:5555/callback"
	for _, tt := range []struct {
		name, verifier, redirect string
	}{
		{"wrong verifier", "wrong-verifier-wrong-verifier-wrong-verifier-1", redirect},
		{"other redirect URI", verifier, "http://127.0.0.1:6666/callback"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code := logintest.AuthorizationCode(t, d, logintest.S256(verifier), redirect)
			if _, err := d.Exchange(ctx, code, tt.verifier, tt.redirect); !errors.Is(err, provider.ErrInvalidGrant) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestIdentityWithoutAPIScope: a token with openid only is refused by
// /api/v4/user (403, insufficient_scope); the ID token names the same user.
func TestIdentityWithoutAPIScope(t *testing.T) {
	f := newFakeGitLab(t, nil)
	d := newDriver(t, f, nil)
	tok, _, _, err := deviceLogin(t, f, d, []string{"openid"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.Identity(logintest.Context(t), tok)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "4242" || f.Requests("/api/v4/user") != 1 {
		t.Fatalf("identity = %+v", id)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name        string
		cfg         gitlab.Config
		issuer, api string
		wantErr     bool
	}{
		{"gitlab.com by default", gitlab.Config{ClientID: "c"}, "https://gitlab.com", "https://gitlab.com/api/v4", false},
		{"trailing slash dropped", gitlab.Config{ClientID: "c", Issuer: "https://gitlab.com/"}, "https://gitlab.com", "https://gitlab.com/api/v4", false},
		{"self-managed", gitlab.Config{ClientID: "c", Issuer: "https://gitlab.corp.example"}, "https://gitlab.corp.example", "https://gitlab.corp.example/api/v4", false},
		{"relative URL root", gitlab.Config{ClientID: "c", Issuer: "https://corp.example/gitlab/"}, "https://corp.example/gitlab", "https://corp.example/gitlab/api/v4", false},
		{"API URL option", gitlab.Config{ClientID: "c", Issuer: "https://gitlab.corp.example", APIURL: "https://api.gitlab.corp.example/v4/"}, "https://gitlab.corp.example", "https://api.gitlab.corp.example/v4", false},
		{"no client", gitlab.Config{}, "", "", true},
		{"http issuer", gitlab.Config{ClientID: "c", Issuer: "http://gitlab.corp.example"}, "", "", true},
		{"http API", gitlab.Config{ClientID: "c", APIURL: "http://gitlab.corp.example/api/v4"}, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := gitlab.New(tt.cfg)
			if tt.wantErr {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Config().Issuer; got != tt.issuer {
				t.Errorf("issuer = %q, want %q", got, tt.issuer)
			}
			if d.APIURL() != tt.api || !slices.Equal(d.Describe().APIs, []string{tt.api}) || !strings.Contains(strings.Join(d.Describe().Quirks, "\n"), "API origin: "+tt.api) {
				t.Errorf("APIURL = %q, want %q (quirks %q)", d.APIURL(), tt.api, d.Describe().Quirks)
			}
		})
	}
}

func TestWithDeviceEndpoint(t *testing.T) {
	m := &provider.AuthServerMetadata{Issuer: "https://gitlab.com", TokenEndpoint: "https://gitlab.com/oauth/token"}
	if got := gitlab.WithDeviceEndpoint(m); got.DeviceAuthorizationEndpoint != "https://gitlab.com/oauth/authorize_device" || m.DeviceAuthorizationEndpoint != "" {
		t.Errorf("filled = %q, original changed to %q", got.DeviceAuthorizationEndpoint, m.DeviceAuthorizationEndpoint)
	}
	m.DeviceAuthorizationEndpoint = "https://gitlab.com/custom/device"
	if got := gitlab.WithDeviceEndpoint(m); got.DeviceAuthorizationEndpoint != "https://gitlab.com/custom/device" {
		t.Errorf("a listed endpoint was replaced by %q", got.DeviceAuthorizationEndpoint)
	}
}

func TestDescribeAndRebind(t *testing.T) {
	f := newFakeGitLab(t, nil)
	d := newDriver(t, f, nil)
	desc := d.Describe()
	if desc.Name != "gitlab" || desc.ClientID != f.clientID || !slices.Equal(desc.Grants, []provider.Grant{provider.GrantPKCE, provider.GrantDevice}) ||
		!slices.Equal(desc.DefaultScopes, []string{"read_api"}) {
		t.Fatalf("description = %+v", desc)
	}
	m, err := d.Metadata(logintest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.DeviceAuthorizationEndpoint != f.URL+"/oauth/authorize_device" {
		t.Fatalf("device endpoint = %q", m.DeviceAuthorizationEndpoint)
	}
	discovered := f.Requests("/.well-known/openid-configuration") + f.Requests("/.well-known/oauth-authorization-server")
	r, err := d.WithClientID("https://app.example.com/cimd.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.(*gitlab.Driver); !ok || r.Describe().ClientID != "https://app.example.com/cimd.json" {
		t.Fatalf("rebound = %T %+v", r, r.Describe())
	}
	if m2, err := r.Metadata(logintest.Context(t)); err != nil || m2.DeviceAuthorizationEndpoint != m.DeviceAuthorizationEndpoint {
		t.Fatalf("rebound metadata = %+v, %v", m2, err)
	}
	if n := f.Requests("/.well-known/openid-configuration") + f.Requests("/.well-known/oauth-authorization-server"); n != discovered {
		t.Error("the rebound driver discovered the metadata again")
	}
}
