package slack_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/slack"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

// TestDescribeDesktop: Slack tokens go to the Web API only; the redirect
// is http://localhost:PORT/callback with a port registered with the app.
func TestDescribeDesktop(t *testing.T) {
	d, err := slack.New(slack.Config{ClientID: "1.2", Scopes: []string{"chat:write"}})
	if err != nil {
		t.Fatal(err)
	}
	desc := d.Describe()
	if !slices.Equal(desc.APIs, []string{"https://slack.com/api"}) || desc.LoopbackHost != "localhost" || !desc.LoopbackPortFixed {
		t.Fatalf("APIs %q, LoopbackHost %q, LoopbackPortFixed %v; want https://slack.com/api, localhost, true",
			desc.APIs, desc.LoopbackHost, desc.LoopbackPortFixed)
	}
}

// TestRedirectURIExactMatch: Slack matches the registered redirect URL
// exactly; 127.0.0.1 is another host to it, and the port is part of it.
func TestRedirectURIExactMatch(t *testing.T) {
	f := newFakeSlack(t, nil)
	d := newDriver(t, f, nil)
	tests := []struct {
		name string
		lb   login.Loopback
		ok   bool
	}{
		{"the driver's host at the registered port", login.Loopback{RedirectHost: d.Describe().LoopbackHost, Port: f.port}, true},
		{"127.0.0.1 at the registered port", login.Loopback{RedirectHost: "127.0.0.1", Port: f.port}, false},
		{"localhost at another port", login.Loopback{RedirectHost: "localhost", Port: logintest.FreePort(t)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := logintest.PKCELoginVia(t, d, login.PreferPKCE, nil, tt.lb)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if !tt.ok && !strings.Contains(err.Error(), "bad_redirect_uri") {
				t.Fatalf("err = %v, want Slack's bad_redirect_uri", err)
			}
		})
	}
}

// TestNoSecretOnPKCEExchange: a PKCE app is a public client; Slack refuses
// a client_secret on its exchange, so a configured one is not sent there.
func TestNoSecretOnPKCEExchange(t *testing.T) {
	f := newFakeSlack(t, nil)
	d := newDriver(t, f, func(c *slack.Config) { c.ClientSecret = "an-old-secret" })
	tok, err := pkceLogin(t, f, d, login.PreferPKCE, nil)
	if err != nil {
		t.Fatalf("PKCE login with a configured secret: %v", err)
	}
	if _, err := d.(provider.Refresher).Refresh(logintest.Context(t), tok); err != nil {
		t.Fatalf("refresh: %v", err)
	}
}

// TestRefreshErrorHints: every oauth.v2.access error a refresh can meet
// keeps its code and sentinel; invalid_refresh_token says that a PKCE
// app's refresh tokens last 30 days.
func TestRefreshErrorHints(t *testing.T) {
	tests := []struct {
		name, code string
		want       error
		contains   string
	}{
		{"spent or expired refresh token", "invalid_refresh_token", provider.ErrInvalidGrant, "30 days"},
		{"unknown client", "invalid_client_id", provider.ErrInvalidClient, ""},
		{"grant type refused", "invalid_grant_type", provider.ErrGrantUnsupported, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSlack(t, nil)
			d := newDriver(t, f, nil)
			tok, err := pkceLogin(t, f, d, login.PreferPKCE, nil)
			if err != nil {
				t.Fatal(err)
			}
			switch tt.code {
			case "invalid_refresh_token":
				tok.RefreshToken = "xoxe-1-unknown"
			case "invalid_client_id":
				d = newDriver(t, f, func(c *slack.Config) { c.ClientID = "9.9" })
			case "invalid_grant_type":
				f.badGrantType = true
			}
			_, err = d.(provider.Refresher).Refresh(logintest.Context(t), tok)
			var oe *provider.OAuthError
			if !errors.Is(err, tt.want) || !errors.As(err, &oe) || oe.Code != tt.code {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
			if tt.contains != "" && !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not say %q", err, tt.contains)
			}
		})
	}
}

// TestBotScopeWording: a bot scope is refused before the browser opens,
// in Slack's terms: desktop redirects cannot request bot scopes.
func TestBotScopeWording(t *testing.T) {
	for _, scope := range []string{"commands", "chat:write.public", "incoming-webhook"} {
		t.Run(scope, func(t *testing.T) {
			err := slack.CheckUserScopes([]string{"chat:write", scope})
			if !errors.Is(err, slack.ErrBotScope) {
				t.Fatalf("err = %v", err)
			}
			for _, s := range []string{scope, "bot scope", "desktop redirect"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
	f := newFakeSlack(t, nil)
	d := newDriver(t, f, nil)
	if _, err := pkceLogin(t, f, d, login.PreferPKCE, []string{"commands"}); !errors.Is(err, slack.ErrBotScope) {
		t.Fatalf("login: err = %v", err)
	}
	if n := f.Requests("/oauth/v2/authorize"); n != 0 {
		t.Errorf("the browser went to Slack %d times", n)
	}
}
