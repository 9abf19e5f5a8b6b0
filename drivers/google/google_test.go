package google_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/google"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
)

func newDriver(t *testing.T, f *fakeGoogle, configure func(*google.Config)) *google.Driver {
	t.Helper()
	cfg := google.Config{Issuer: f.URL, ClientID: f.clientID, ClientSecret: f.secret}
	if configure != nil {
		configure(&cfg)
	}
	d, err := google.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func deviceLogin(t *testing.T, f *fakeGoogle, d provider.Driver, approveAt int) (*provider.Token, *logintest.FastSleep, error) {
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
	return tok, sleep, err
}

func TestDeviceLogin(t *testing.T) {
	// A quota refusal and a slow_down (both HTTP 403) slow the poller down.
	f := newFakeGoogle(t, func(f *fakeGoogle) { f.pollErrors = []string{"rate_limit_exceeded", "slow_down"} })
	d := newDriver(t, f, nil)
	tok, sleep, err := deviceLogin(t, f, d, 3)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.IDToken == "" || strings.Join(tok.Scopes, " ") != "openid email profile" {
		t.Fatalf("token = %v", tok)
	}
	w := sleep.Waited()
	if len(w) != 4 || w[1] <= w[0] || w[2] <= w[1] {
		t.Errorf("intervals = %v: want 4, growing after each 403", w)
	}
	id, err := d.Identity(logintest.Context(t), tok)
	if err != nil || id.Subject != "110169484474386276334" || id.DisplayName != "Alice Example <alice@example.com>" {
		t.Fatalf("identity = %+v, %v", id, err)
	}
	// Refresh tokens do not rotate: the one used is kept.
	nt, err := d.Refresh(logintest.Context(t), tok)
	if err != nil || nt.RefreshToken != tok.RefreshToken || nt.AccessToken == tok.AccessToken {
		t.Fatalf("refresh = %v, %v", nt, err)
	}
	_, err = d.Refresh(logintest.Context(t), &provider.Token{RefreshToken: "1//0gunknown"})
	if !errors.Is(err, provider.ErrInvalidGrant) || !strings.Contains(err.Error(), "Testing") || !strings.Contains(err.Error(), "7 days") {
		t.Fatalf("refused refresh: err = %v", err)
	}
}

func TestDeviceErrors(t *testing.T) {
	tests := []struct {
		code   string
		want   error
		status int
		says   string
	}{
		{"authorization_pending", provider.ErrAuthorizationPending, 428, ""},
		{"slow_down", provider.ErrSlowDown, 403, ""},
		{"rate_limit_exceeded", provider.ErrSlowDown, 403, "rate_limit_exceeded"},
		{"access_denied", provider.ErrAccessDenied, 403, ""},
		{"expired_token", provider.ErrExpiredToken, 400, ""},
		{"invalid_grant", provider.ErrInvalidGrant, 400, ""},
		{"invalid_client", provider.ErrInvalidClient, 401, "TVs and Limited Input devices"},
		{"admin_policy_enforced", nil, 400, "administrator"},
		{"org_internal", nil, 403, "Internal"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			f := newFakeGoogle(t, nil)
			d := newDriver(t, f, nil)
			ctx := logintest.Context(t)
			da, err := d.StartDevice(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if da.VerificationURI != "https://www.google.com/device" {
				t.Errorf("verification URI = %q", da.VerificationURI)
			}
			if tt.code != "authorization_pending" {
				f.pollErrors = []string{tt.code}
			}
			_, err = d.PollDevice(ctx, da)
			var oe *provider.OAuthError
			if !errors.As(err, &oe) || oe.StatusCode != tt.status || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want %v [HTTP %d] saying %q", err, tt.want, tt.status, tt.says)
			}
		})
	}
}

func TestDeviceGrantRuledOut(t *testing.T) {
	f := newFakeGoogle(t, nil)
	d := newDriver(t, f, nil)
	_, err := d.StartDevice(logintest.Context(t), []string{"openid", "https://www.googleapis.com/auth/gmail.readonly"})
	if !errors.Is(err, provider.ErrGrantUnsupported) || !strings.Contains(err.Error(), "gmail.readonly") {
		t.Fatalf("err = %v", err)
	}
	if _, err := d.StartDevice(logintest.Context(t), []string{"email", "https://www.googleapis.com/auth/drive.file"}); err != nil {
		t.Fatalf("allowed scopes: %v", err)
	}
	if f.Requests("/device/code") != 1 {
		t.Errorf("device code requests = %d, want 1", f.Requests("/device/code"))
	}
}

func TestSecretRequired(t *testing.T) {
	f := newFakeGoogle(t, nil)
	d := newDriver(t, f, func(c *google.Config) { c.ClientSecret = "" })
	if _, err := d.StartDevice(logintest.Context(t), nil); err == nil || !strings.Contains(err.Error(), "client_secret") {
		t.Fatalf("StartDevice: err = %v", err)
	}
	if _, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil); err == nil || !strings.Contains(err.Error(), "client_secret") {
		t.Fatalf("PKCE: err = %v", err)
	}
	if f.Requests("/device/code")+f.Requests("/o/oauth2/v2/auth") != 0 {
		t.Error("a request was made without the secret")
	}
	wrong := newDriver(t, f, func(c *google.Config) { c.ClientSecret = "GOCSPX-wrong" })
	if _, err := logintest.PKCELogin(t, wrong, login.PreferPKCE, nil); !errors.Is(err, provider.ErrInvalidClient) || !strings.Contains(err.Error(), "Desktop app") {
		t.Fatalf("wrong secret: err = %v", err)
	}
}

func TestPKCELogin(t *testing.T) {
	f := newFakeGoogle(t, nil)
	d := newDriver(t, f, func(c *google.Config) {
		c.Scopes = []string{"openid", "email", "https://www.googleapis.com/auth/gmail.readonly"}
	})
	tok, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || !strings.Contains(strings.Join(tok.Scopes, " "), "gmail.readonly") {
		t.Fatalf("token = %v", tok)
	}
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	redirect := "http://[::1]:5555/callback"
	code := logintest.AuthorizationCode(t, d, logintest.S256(verifier), redirect)
	if _, err := d.Exchange(logintest.Context(t), code, verifier, redirect); err != nil {
		t.Fatalf("[::1] redirect: %v", err)
	}
}

func TestIdentityIssuer(t *testing.T) {
	f := newFakeGoogle(t, func(f *fakeGoogle) { f.schemelessIssuer = true })
	d := newDriver(t, f, nil)
	if id, err := d.Identity(logintest.Context(t), &provider.Token{IDToken: f.idToken()}); err != nil || id.Subject == "" {
		t.Fatalf("schemeless issuer: %+v, %v", id, err)
	}
	for _, iss := range []string{"https://evil.example", "evil.example", strings.TrimPrefix(f.URL, "http://") + "/x"} {
		if _, err := d.Identity(logintest.Context(t), &provider.Token{IDToken: f.signIDToken(iss)}); !errors.Is(err, provider.ErrIssuerMismatch) {
			t.Errorf("issuer %q: err = %v", iss, err)
		}
	}
}

func TestChallenge(t *testing.T) {
	d, err := google.New(google.Config{ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	body := logintest.Canned(t, "api/scope_insufficient.json", nil)
	scope := "https://www.googleapis.com/auth/gmail.readonly"
	hdr := http.Header{"Www-Authenticate": {`Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="` + scope + `"`}}
	c, ok := d.Challenge(provider.APIResponse{StatusCode: 403, Header: hdr, Body: body})
	if !ok || len(c.Scopes) != 1 || c.Scopes[0] != scope {
		t.Fatalf("with header: %+v, %v", c, ok)
	}
	c, ok = d.Challenge(provider.APIResponse{StatusCode: 403, Header: http.Header{}, Body: body})
	if !ok || len(c.Scopes) != 0 || !strings.Contains(c.Description, "ACCESS_TOKEN_SCOPE_INSUFFICIENT") || !strings.Contains(c.Description, "gmail.googleapis.com") {
		t.Fatalf("body only: %+v, %v", c, ok)
	}
	for _, resp := range []provider.APIResponse{
		{StatusCode: 200, Header: hdr},
		{StatusCode: 401, Header: http.Header{"Www-Authenticate": {`Bearer realm="https://accounts.google.com/", error="invalid_token"`}}},
		{StatusCode: 403, Header: http.Header{}, Body: []byte(`{"error":{"code":403,"status":"PERMISSION_DENIED"}}`)},
	} {
		if c, ok := d.Challenge(resp); ok {
			t.Errorf("status %d: challenge %+v", resp.StatusCode, c)
		}
	}
}

func TestClaimsAndRegistry(t *testing.T) {
	for iss, want := range map[string]bool{
		"https://accounts.google.com":   true,
		"https://accounts.google.com/":  true,
		"accounts.google.com":           false,
		"http://accounts.google.com":    false,
		"https://accounts.google.co":    false,
		"https://oauth2.googleapis.com": false,
	} {
		if got := google.Claims(iss); got != want {
			t.Errorf("Claims(%q) = %v", iss, got)
		}
	}
	reg, _, err := registry.Resolve(drivers.Builtin, "", "https://accounts.google.com")
	if err != nil || reg.Name != google.Name {
		t.Fatalf("Resolve = %q, %v", reg.Name, err)
	}
	d, err := google.New(google.Config{ClientID: "c", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := d.WithClientID("https://app.example.com/cimd.json")
	if _, ok := r.(*google.Driver); !ok || err != nil || r.Describe().ClientID != "https://app.example.com/cimd.json" {
		t.Fatalf("WithClientID = %T, %v", r, err)
	}
	if desc := d.Describe(); desc.Name != google.Name || !desc.Offers(provider.GrantDevice) || !desc.Offers(provider.GrantPKCE) {
		t.Fatalf("description = %+v", desc)
	}
}
