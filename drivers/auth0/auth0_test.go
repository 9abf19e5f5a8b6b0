package auth0_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/drivers/auth0"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// newDriver builds the driver for the fake tenant, with its own discovery
// cache. issuer "" means the tenant's issuer.
func newDriver(t *testing.T, f *fakeAuth0, configure func(*auth0.Config)) *auth0.Driver {
	t.Helper()
	disc := &discovery.Discoverer{}
	cfg := auth0.Config{Issuer: f.issuer(), ClientID: f.clientID, Audience: testAPI,
		Discover: func(ctx context.Context, iss string) (*provider.AuthServerMetadata, error) {
			return disc.AuthServer(ctx, iss)
		}}
	if configure != nil {
		configure(&cfg)
	}
	d, err := auth0.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func deviceLogin(t *testing.T, f *fakeAuth0, d provider.Driver, approveAt int) (*provider.Token, *provider.DeviceAuthorization, *logintest.FastSleep, error) {
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
	tok, err := l.Run(logintest.Context(t), d, nil)
	return tok, shown, sleep, err
}

func TestDeviceLogin(t *testing.T) {
	f := newFakeAuth0(t, func(f *fakeAuth0) { f.slowDowns = []int{2} })
	d := newDriver(t, f, nil)
	tok, da, sleep, err := deviceLogin(t, f, d, 3)
	if err != nil {
		t.Fatal(err)
	}
	if da.VerificationURI != f.URL+"/activate" || da.VerificationURIComplete != f.URL+"/activate?user_code="+da.UserCode {
		t.Errorf("device authorization = %v", da)
	}
	if dev, _ := f.devices.ByUserCode(da.UserCode); dev.Scope != "openid profile offline_access" {
		t.Errorf("requested scope = %q", dev.Scope)
	}
	// pending (403), slow_down (429), pending, then the token.
	if got, want := sleep.Waited(), []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("intervals = %v, want %v", got, want)
	}
	if !strings.HasPrefix(tok.AccessToken, "eyJ") || tok.RefreshToken == "" || tok.IDToken == "" {
		t.Fatalf("token = %v (want a JWT access token for the audience, a refresh token, an ID token)", tok)
	}
	for _, endpoint := range []string{"device", "token"} {
		if seen := f.audienceSeen(endpoint); len(seen) == 0 || slices.ContainsFunc(seen, func(a string) bool { return a != testAPI }) {
			t.Errorf("%s requests carried audiences %q, want %s on each", endpoint, seen, testAPI)
		}
	}
	id, err := d.Identity(logintest.Context(t), tok)
	if err != nil || id.Subject != "auth0|64f1c0ffee00badc0de00042" || id.DisplayName != "Alice Example" {
		t.Fatalf("identity = %+v, %v", id, err)
	}
}

func TestDeviceErrors(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *fakeAuth0, da *provider.DeviceAuthorization)
		want   error
		code   string
		status int
	}{
		{"authorization_pending is a 403", nil, provider.ErrAuthorizationPending, "authorization_pending", 403},
		{"slow_down is a 429", func(f *fakeAuth0, _ *provider.DeviceAuthorization) {
			f.set(func(f *fakeAuth0) { f.slowDowns = []int{1} })
		},
			provider.ErrSlowDown, "slow_down", 429},
		{"access_denied", func(f *fakeAuth0, da *provider.DeviceAuthorization) { f.devices.Deny(da.UserCode) }, provider.ErrAccessDenied, "access_denied", 403},
		{"expired_token", func(f *fakeAuth0, da *provider.DeviceAuthorization) { f.devices.Expire(da.UserCode) }, provider.ErrExpiredToken, "expired_token", 403},
		{"unknown device code", func(_ *fakeAuth0, da *provider.DeviceAuthorization) { da.DeviceCode = "bogus" }, provider.ErrInvalidGrant, "invalid_grant", 403},
		{"device grant turned off meanwhile", func(f *fakeAuth0, _ *provider.DeviceAuthorization) {
			f.set(func(f *fakeAuth0) { f.grants = []string{grantCode} })
		}, provider.ErrInvalidClient, "unauthorized_client", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAuth0(t, nil)
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
		})
	}
}

// TestDeviceExpiredOnce: Auth0 says expired_token once; the next poll of
// the same code is invalid_grant.
func TestDeviceExpiredOnce(t *testing.T) {
	f := newFakeAuth0(t, nil)
	d := newDriver(t, f, nil)
	ctx := logintest.Context(t)
	da, err := d.StartDevice(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.devices.Expire(da.UserCode)
	if _, err := d.PollDevice(ctx, da); !errors.Is(err, provider.ErrExpiredToken) {
		t.Fatalf("first poll after expiry: %v", err)
	}
	if _, err := d.PollDevice(ctx, da); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("second poll after expiry: %v", err)
	}
	// The poller stops at the first: one request, a distinct error.
	da, _ = d.StartDevice(ctx, nil)
	f.devices.Expire(da.UserCode)
	before := f.Requests("/oauth/token")
	if _, err := (&login.DevicePoller{Sleep: (&logintest.FastSleep{}).Sleep}).Poll(ctx, d, da); !errors.Is(err, provider.ErrExpiredToken) {
		t.Fatalf("poller: %v", err)
	}
	if n := f.Requests("/oauth/token") - before; n != 1 {
		t.Errorf("poller made %d requests after expired_token, want 1", n)
	}
}

func TestGrantNotEnabled(t *testing.T) {
	for _, tt := range []struct {
		name, says string
		grants     []string
		run        func(t *testing.T, f *fakeAuth0, d *auth0.Driver) error
	}{
		{"device", "Device Code", []string{grantCode, grantRefresh}, func(t *testing.T, f *fakeAuth0, d *auth0.Driver) error {
			_, err := d.StartDevice(logintest.Context(t), nil)
			return err
		}},
		{"refresh", "Refresh Token", []string{grantDevice, grantCode}, func(t *testing.T, f *fakeAuth0, d *auth0.Driver) error {
			_, err := d.Refresh(logintest.Context(t), &provider.Token{RefreshToken: "v1.whatever"})
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAuth0(t, func(f *fakeAuth0) { f.grants = tt.grants })
			err := tt.run(t, f, newDriver(t, f, nil))
			if !errors.Is(err, provider.ErrInvalidClient) || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "Grant Types") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestUnknownAudience(t *testing.T) {
	f := newFakeAuth0(t, nil)
	d := newDriver(t, f, func(c *auth0.Config) { c.Audience = "https://typo.acme.example" })
	_, err := d.StartDevice(logintest.Context(t), nil)
	if !errors.Is(err, provider.ErrAccessDenied) || !strings.Contains(err.Error(), "Service not found") {
		t.Fatalf("err = %v", err)
	}
}

// TestWithoutAudience: no audience is sent; the access token is opaque
// and /userinfo takes it.
func TestWithoutAudience(t *testing.T) {
	f := newFakeAuth0(t, nil)
	d := newDriver(t, f, func(c *auth0.Config) { c.Audience = "" })
	tok, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(tok.AccessToken, "eyJ") || slices.ContainsFunc(f.audienceSeen("token"), func(a string) bool { return a != "" }) {
		t.Fatalf("token %v, audiences %q: want an opaque token and no audience", tok, f.audienceSeen("token"))
	}
	if !strings.Contains(strings.Join(d.Describe().Quirks, "\n"), "opaque") {
		t.Errorf("Describe does not warn about opaque tokens: %q", d.Describe().Quirks)
	}
	if _, err := d.Identity(logintest.Context(t), &provider.Token{AccessToken: tok.AccessToken}); err != nil {
		t.Fatalf("userinfo with the opaque token: %v", err)
	}
}

func TestPKCELoginAndRotation(t *testing.T) {
	f := newFakeAuth0(t, nil)
	d := newDriver(t, f, func(c *auth0.Config) { c.Scopes = []string{"openid", "profile", "email"} })
	ctx := logintest.Context(t)
	tok, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || !slices.Equal(tok.Scopes, []string{"openid", "profile", "email", "offline_access"}) {
		t.Fatalf("token = %v", tok)
	}
	if seen := f.audienceSeen("authorize"); !slices.Equal(seen, []string{testAPI}) {
		t.Errorf("authorization requests carried audiences %q", seen)
	}
	id, err := d.Identity(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	fresh := logintest.RefreshRotates(t, d, tokenstore.Key{Issuer: f.issuer(), ClientID: f.clientID, Subject: id.Subject}, tok)

	// Within the reuse interval the previous token gets the same new pair.
	again, err := d.Refresh(ctx, tok)
	if err != nil || again.AccessToken != fresh.AccessToken || again.RefreshToken != fresh.RefreshToken {
		t.Fatalf("reuse within the interval = %v, %v; want the same pair as %v", again, err, fresh)
	}
	// After it, reuse is refused and revokes the family: the live token too.
	f.advance(11 * time.Second)
	if _, err := d.Refresh(ctx, tok); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("reuse after the interval: err = %v, want invalid_grant", err)
	}
	if _, err := d.Refresh(ctx, fresh); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("live token after reuse detection: err = %v, want invalid_grant", err)
	}
}

func TestRefreshNeedsOfflineAccess(t *testing.T) {
	for _, tt := range []struct {
		name      string
		configure func(*fakeAuth0)
		disable   bool
	}{
		{"API without Allow Offline Access", func(f *fakeAuth0) { f.offline = false }, false},
		{"offline_access disabled", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAuth0(t, tt.configure)
			d := newDriver(t, f, func(c *auth0.Config) { c.DisableRefresh = tt.disable })
			tok, da, _, err := deviceLogin(t, f, d, 1)
			if err != nil {
				t.Fatal(err)
			}
			dev, _ := f.devices.ByUserCode(da.UserCode)
			if tok.RefreshToken != "" || strings.Contains(dev.Scope, "offline_access") == tt.disable {
				t.Fatalf("token %v for scope %q", tok, dev.Scope)
			}
		})
	}
}

func TestPKCEExchangeErrors(t *testing.T) {
	f := newFakeAuth0(t, nil)
	d := newDriver(t, f, nil)
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const redirect = "http://127.0.0.1:5555/callback"
	for _, tt := range []struct{ name, verifier, redirect, desc string }{
		{"wrong verifier", "wrong-verifier-wrong-verifier-wrong-verifier-1", redirect, "code verifier"},
		{"other redirect URI", verifier, "http://127.0.0.1:6666/callback", "authorization code"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code := logintest.AuthorizationCode(t, d, logintest.S256(verifier), redirect)
			_, err := d.Exchange(logintest.Context(t), code, tt.verifier, tt.redirect)
			var oe *provider.OAuthError
			if !errors.Is(err, provider.ErrInvalidGrant) || !errors.As(err, &oe) || oe.StatusCode != 403 || !strings.Contains(err.Error(), tt.desc) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
