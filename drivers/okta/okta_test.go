package okta_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// logBuffer collects the driver's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newDriver builds the driver the way a host does: discovery through the
// registry with Okta's fallback URLs.
func newDriver(t *testing.T, issuer string, configure func(*okta.Config)) (provider.Driver, *logBuffer) {
	t.Helper()
	var disc discovery.Discoverer
	logs := &logBuffer{}
	cfg := okta.Config{
		Issuer:   issuer,
		ClientID: "0oa1b2c3d4e5f6g7h8i9",
		Discover: func(ctx context.Context, iss string) (*provider.AuthServerMetadata, error) {
			return disc.AuthServer(ctx, iss, okta.DiscoveryFallbacks(iss)...)
		},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if configure != nil {
		configure(&cfg)
	}
	d, err := okta.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d, logs
}

// deviceLogin runs a device login through login.Login, approving after
// approveAt polls.
func deviceLogin(t *testing.T, f *fakeOkta, d provider.Driver, scopes []string, approveAt int) (*provider.Token, *provider.DeviceAuthorization, *logintest.FastSleep, error) {
	t.Helper()
	sleep := &logintest.FastSleep{}
	var shown *provider.DeviceAuthorization
	login := &login.Login{
		Preference: login.PreferDevice,
		Device: login.DevicePoller{Sleep: sleep.Sleep, OnProgress: func(p login.DeviceProgress) {
			if p.Polls == approveAt {
				f.devices.Approve(shown.UserCode)
			}
		}},
		ShowDevice: func(_ context.Context, da *provider.DeviceAuthorization) error { shown = da; return nil },
	}
	tok, err := login.Run(logintest.Context(t), d, scopes)
	return tok, shown, sleep, err
}

func TestDeviceLogin(t *testing.T) {
	for _, server := range []string{"custom", "org"} {
		t.Run(server, func(t *testing.T) {
			f := newFakeOkta(t, nil)
			issuer := f.customIssuer()
			if server == "org" {
				issuer = f.orgIssuer()
			}
			d, logs := newDriver(t, issuer, nil)
			tok, da, sleep, err := deviceLogin(t, f, d, nil, 2)
			if err != nil {
				t.Fatal(err)
			}
			if da.VerificationURI != f.URL+"/activate" || !strings.Contains(da.VerificationURIComplete, da.UserCode) {
				t.Errorf("device authorization = %v", da)
			}
			// offline_access was added, so Okta issued a refresh token.
			if dev, _ := f.devices.ByUserCode(da.UserCode); dev.Scope != "openid profile offline_access" {
				t.Errorf("requested scope = %q", dev.Scope)
			}
			if tok.RefreshToken == "" || tok.IDToken == "" || tok.TokenType != "Bearer" ||
				!slices.Equal(tok.Scopes, []string{"openid", "profile", "offline_access"}) {
				t.Fatalf("token = %v", tok)
			}
			if !strings.Contains(logs.String(), "offline_access") {
				t.Errorf("the added offline_access was not logged: %s", logs)
			}
			prefix := "/oauth2/default/v1"
			if server == "org" {
				prefix = "/oauth2/v1"
			}
			if got := f.Requests(prefix + "/token"); got != 3 {
				t.Errorf("token requests = %d, want 3", got)
			}
			if got := len(sleep.Waited()); got != 3 {
				t.Errorf("intervals waited = %d, want 3", got)
			}
			if f.proofCount() != 0 {
				t.Error("DPoP proofs sent to an app that does not require them")
			}
			id, err := d.(provider.Identifier).Identity(logintest.Context(t), tok)
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "00u1a2b3c4D5e6F7g8h9" || id.DisplayName != "Alice Example" {
				t.Fatalf("identity = %+v", id)
			}
		})
	}
}

func TestDeviceErrors(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(f *fakeOkta, da *provider.DeviceAuthorization)
		want     error
		code     string
		status   int
		interval time.Duration
	}{
		{"authorization_pending", nil, provider.ErrAuthorizationPending, "authorization_pending", 400, 0},
		{"slow_down", func(f *fakeOkta, _ *provider.DeviceAuthorization) {
			f.set(func(f *fakeOkta) { f.slowDowns = []int{1} })
		},
			provider.ErrSlowDown, "slow_down", 400, 0},
		{"access_denied", func(f *fakeOkta, da *provider.DeviceAuthorization) { f.devices.Deny(da.UserCode) }, provider.ErrAccessDenied, "access_denied", 400, 0},
		{"expired_token", func(f *fakeOkta, da *provider.DeviceAuthorization) { f.devices.Expire(da.UserCode) }, provider.ErrExpiredToken, "expired_token", 400, 0},
		{"invalid device code", func(_ *fakeOkta, da *provider.DeviceAuthorization) { da.DeviceCode = "bogus" }, provider.ErrInvalidGrant, "invalid_grant", 400, 0},
		{"device grant turned off meanwhile", func(f *fakeOkta, _ *provider.DeviceAuthorization) {
			f.set(func(f *fakeOkta) { f.grants = []string{grantCode} })
		}, provider.ErrInvalidClient, "unauthorized_client", 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOkta(t, nil)
			d, _ := newDriver(t, f.customIssuer(), nil)
			ctx := logintest.Context(t)
			da, err := d.(provider.DeviceAuthorizer).StartDevice(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(f, da)
			}
			_, err = d.(provider.DeviceAuthorizer).PollDevice(ctx, da)
			var oe *provider.OAuthError
			if !errors.Is(err, tt.want) || !errors.As(err, &oe) || oe.Code != tt.code || oe.StatusCode != tt.status {
				t.Fatalf("err = %v, want %s (%v) [HTTP %d]", err, tt.code, tt.want, tt.status)
			}
		})
	}
}

// TestDeviceGrantNotEnabled: the error names the Okta setting to turn on.
func TestDeviceGrantNotEnabled(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*fakeOkta)
		code      string
		says      []string
	}{
		{"grant type unchecked", func(f *fakeOkta) { f.grants = []string{grantCode, grantRefresh} }, "unauthorized_client",
			[]string{"Device Authorization", "Grant type", "Native"}},
		{"web app (confidential client)", func(f *fakeOkta) { f.web = true }, "invalid_client",
			[]string{"Native app", "public client", "Device Authorization"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOkta(t, tt.configure)
			d, _ := newDriver(t, f.customIssuer(), nil)
			_, _, _, err := deviceLogin(t, f, d, nil, 1)
			var oe *provider.OAuthError
			if !errors.Is(err, provider.ErrInvalidClient) || !errors.As(err, &oe) || oe.Code != tt.code || oe.Endpoint != "device_authorization" {
				t.Fatalf("err = %v", err)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestPKCELoginAndRotation(t *testing.T) {
	f := newFakeOkta(t, nil)
	d, _ := newDriver(t, f.customIssuer(), func(c *okta.Config) { c.Scopes = []string{"openid", "profile", "email"} })
	ctx := logintest.Context(t)
	tok, err := pkceLogin(t, f, d)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || !slices.Equal(tok.Scopes, []string{"openid", "profile", "email", "offline_access"}) {
		t.Fatalf("token = %v", tok)
	}
	id, err := d.(provider.Identifier).Identity(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	key := tokenstore.Key{Issuer: f.customIssuer(), ClientID: f.clientID, Subject: id.Subject}
	fresh := logintest.RefreshRotates(t, d, key, tok)
	if _, err := d.(provider.Refresher).Refresh(ctx, tok); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("spent refresh token: err = %v", err)
	}
	// Without the Refresh Token grant type the error says which box to check.
	f.set(func(f *fakeOkta) { f.grants = []string{grantCode} })
	_, err = d.(provider.Refresher).Refresh(ctx, fresh)
	if !errors.Is(err, provider.ErrInvalidClient) || !strings.Contains(err.Error(), "Refresh Token") {
		t.Fatalf("refresh grant off: err = %v", err)
	}
}

func TestPKCEExchangeErrors(t *testing.T) {
	f := newFakeOkta(t, nil)
	d, _ := newDriver(t, f.customIssuer(), nil)
	ctx := logintest.Context(t)
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	redirect := f.redirects[0]
	code := func(t *testing.T) string {
		return logintest.AuthorizationCode(t, d, logintest.S256(verifier), redirect)
	}
	for _, tt := range []struct {
		name, verifier, redirect, desc string
	}{
		{"wrong verifier", "wrong-verifier-wrong-verifier-wrong-verifier-1", redirect, "PKCE"},
		{"other redirect URI", verifier, "http://127.0.0.1:6666/callback", "redirect_uri"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.(provider.CodeExchanger).Exchange(ctx, code(t), tt.verifier, tt.redirect)
			if !errors.Is(err, provider.ErrInvalidGrant) || !strings.Contains(err.Error(), tt.desc) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("web app", func(t *testing.T) {
		c := code(t)
		f.set(func(f *fakeOkta) { f.web = true })
		defer f.set(func(f *fakeOkta) { f.web = false })
		_, err := d.(provider.CodeExchanger).Exchange(ctx, c, verifier, redirect)
		if !errors.Is(err, provider.ErrInvalidClient) || !strings.Contains(err.Error(), "Native app") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDisableRefresh(t *testing.T) {
	f := newFakeOkta(t, nil)
	d, logs := newDriver(t, f.customIssuer(), func(c *okta.Config) { c.DisableRefresh = true })
	tok, da, _, err := deviceLogin(t, f, d, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if dev, _ := f.devices.ByUserCode(da.UserCode); dev.Scope != "openid profile" || tok.RefreshToken != "" {
		t.Fatalf("scope %q, token %v", dev.Scope, tok)
	}
	if strings.Contains(logs.String(), "offline_access") {
		t.Errorf("logged offline_access although refresh is disabled: %s", logs)
	}
	for _, q := range d.Describe().Quirks {
		if strings.Contains(q, "refresh disabled") {
			return
		}
	}
	t.Errorf("Describe does not say refresh is disabled: %q", d.Describe().Quirks)
}
