package slack_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/drivers/slack"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

func newDriver(t *testing.T, f *fakeSlack, configure func(*slack.Config)) provider.Driver {
	t.Helper()
	cfg := slack.Config{BaseURL: f.URL, ClientID: f.clientID, Scopes: []string{"chat:write", "users:read"}}
	if configure != nil {
		configure(&cfg)
	}
	d, err := slack.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pkceLogin logs in through the redirect URL registered with f: the
// driver's loopback host at f's port.
func pkceLogin(t *testing.T, f *fakeSlack, d provider.Driver, pref login.GrantPreference, scopes []string) (*provider.Token, error) {
	t.Helper()
	return logintest.PKCELoginVia(t, d, pref, scopes, login.Loopback{RedirectHost: d.Describe().LoopbackHost, Port: f.port})
}

func TestPKCELoginAndRotation(t *testing.T) {
	f := newFakeSlack(t, nil)
	d := newDriver(t, f, nil)
	ctx := logintest.Context(t)
	// auto on a headless machine: Slack offers PKCE only, so PKCE it is.
	tok, err := pkceLogin(t, f, d, login.PreferAuto, []string{"users:read", "chat:write", "channels:history"})
	if err != nil {
		t.Fatal(err)
	}
	// The user token comes from authed_user; scopes comma-separated in Slack's order.
	if !strings.HasPrefix(tok.AccessToken, "xoxe.xoxp-") || tok.TokenType != "Bearer" ||
		!slices.Equal(tok.Scopes, []string{"channels:history", "chat:write", "users:read"}) {
		t.Fatalf("token = %v", tok)
	}
	if left := time.Until(tok.Expiry); tok.RefreshToken == "" || left <= 11*time.Hour || left > 12*time.Hour {
		t.Fatalf("token = %v, want a 12 h expiry and a refresh token", tok)
	}
	id, err := d.(provider.Identifier).Identity(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "T12345678/W12345678" || id.DisplayName != "grace (Subarachnoid Workspace)" {
		t.Fatalf("identity = %+v", id)
	}

	key := tokenstore.Key{Issuer: f.URL, ClientID: f.clientID, Subject: id.Subject}
	fresh := logintest.RefreshRotates(t, d, key, tok)
	if !slices.Equal(fresh.Scopes, tok.Scopes) {
		t.Fatalf("refresh changed the scopes: old %v new %v", tok, fresh)
	}
	if _, err := d.(provider.Identifier).Identity(ctx, fresh); err != nil {
		t.Fatalf("refreshed token refused: %v", err)
	}
	// The refresh token used was revoked.
	_, err = d.(provider.Refresher).Refresh(ctx, tok)
	var oe *provider.OAuthError
	if !errors.Is(err, provider.ErrInvalidGrant) || !errors.As(err, &oe) || oe.Code != "invalid_refresh_token" || oe.StatusCode != 200 {
		t.Fatalf("old refresh token: err = %v", err)
	}
	// The rotated one works, and rotates again.
	logintest.RefreshRotates(t, d, key, fresh)
}

func TestLoginWithoutRotation(t *testing.T) {
	f := newFakeSlack(t, func(f *fakeSlack) { f.rotation = false })
	d := newDriver(t, f, nil)
	tok, err := pkceLogin(t, f, d, login.PreferPKCE, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "xoxp-") || !tok.Expiry.IsZero() || tok.RefreshToken != "" ||
		!slices.Equal(tok.Scopes, []string{"chat:write", "users:read"}) {
		t.Fatalf("token = %v", tok)
	}
	if _, err := d.(provider.Refresher).Refresh(logintest.Context(t), tok); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("refresh without refresh token: err = %v", err)
	}
}

func TestNoDeviceGrant(t *testing.T) {
	f := newFakeSlack(t, nil)
	d := newDriver(t, f, nil)
	if d.Describe().Offers(provider.GrantDevice) {
		t.Fatal("the Slack driver offers a device grant")
	}
	// The generic driver it embeds has StartDevice; Slack's refuses.
	if _, err := d.(provider.DeviceAuthorizer).StartDevice(logintest.Context(t), nil); !errors.Is(err, provider.ErrGrantUnsupported) {
		t.Fatalf("StartDevice: err = %v, want ErrGrantUnsupported", err)
	}
	_, err := pkceLogin(t, f, d, login.PreferDevice, nil)
	if !errors.Is(err, provider.ErrGrantUnsupported) {
		t.Fatalf("device preference: err = %v", err)
	}
	desc := d.Describe()
	if !slices.Equal(desc.Grants, []provider.Grant{provider.GrantPKCE}) || desc.Name != "slack" || desc.ClientID != f.clientID ||
		!slices.Equal(desc.DefaultScopes, []string{"chat:write", "users:read"}) || len(desc.Quirks) == 0 {
		t.Fatalf("description = %+v", desc)
	}
	if m, _ := d.Metadata(logintest.Context(t)); m.Offers(provider.GrantDevice) || !m.Offers(provider.GrantPKCE) {
		t.Fatalf("metadata = %+v", m)
	}
}

func TestBotScopesRefused(t *testing.T) {
	f := newFakeSlack(t, nil)
	d := newDriver(t, f, nil)
	_, err := pkceLogin(t, f, d, login.PreferPKCE, []string{"chat:write", "commands", "incoming-webhook"})
	if !errors.Is(err, slack.ErrBotScope) || !strings.Contains(err.Error(), "commands, incoming-webhook") {
		t.Fatalf("err = %v", err)
	}
	if n := f.Requests("/oauth/v2/authorize"); n != 0 {
		t.Errorf("the browser was sent to Slack %d times for a refused request", n)
	}
	if _, err := slack.New(slack.Config{ClientID: "x", Scopes: []string{"chat:write.public"}}); !errors.Is(err, slack.ErrBotScope) {
		t.Errorf("New with a bot-only scope: err = %v", err)
	}
	// A name shared by both token types is a user scope here.
	if err := slack.CheckUserScopes([]string{"chat:write", "channels:history", "users:read"}); err != nil {
		t.Errorf("user scopes refused: %v", err)
	}
}

func TestAuthCodeURL(t *testing.T) {
	d, err := slack.New(slack.Config{ClientID: "1.2", Scopes: []string{"chat:write"}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.AuthCodeURL(logintest.Context(t), provider.AuthCodeRequest{
		State: "s", CodeChallenge: "c", RedirectURI: "http://127.0.0.1:9/callback", Scopes: []string{"channels:history", "users:read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	q := pu.Query()
	if pu.Scheme+"://"+pu.Host+pu.Path != "https://slack.com/oauth/v2/authorize" || q.Has("scope") ||
		q.Get("user_scope") != "channels:history,users:read" || q.Get("client_id") != "1.2" || q.Get("state") != "s" ||
		q.Get("code_challenge") != "c" || q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != "http://127.0.0.1:9/callback" {
		t.Fatalf("URL = %s", u)
	}
	d, _ = slack.New(slack.Config{ClientID: "1.2"})
	if _, err := d.AuthCodeURL(logintest.Context(t), provider.AuthCodeRequest{State: "s"}); err == nil {
		t.Error("no scopes at all accepted")
	}
}

func TestExchangeErrors(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	f := newFakeSlack(t, nil)
	redirect := f.redirects[0]
	good := newDriver(t, f, nil)
	tests := []struct {
		name               string
		d                  provider.Driver
		verifier, redirect string
		code               string
		want               error
	}{
		{"wrong verifier", good, "wrong-verifier-wrong-verifier-wrong-verifier-1", redirect, "invalid_code", provider.ErrInvalidGrant},
		{"other redirect URI", good, verifier, fmt.Sprintf("http://localhost:%d/callback", f.port+1), "bad_redirect_uri", provider.ErrInvalidGrant},
		{"unknown client", newDriver(t, f, func(c *slack.Config) { c.ClientID = "9.9" }), verifier, redirect, "invalid_client_id", provider.ErrInvalidClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := logintest.AuthorizationCode(t, good, logintest.S256(verifier), redirect)
			_, err := tt.d.(provider.CodeExchanger).Exchange(logintest.Context(t), code, tt.verifier, tt.redirect)
			var oe *provider.OAuthError
			if !errors.Is(err, tt.want) || !errors.As(err, &oe) || oe.Code != tt.code || oe.StatusCode != 200 {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
	t.Run("code used twice", func(t *testing.T) {
		code := logintest.AuthorizationCode(t, good, logintest.S256(verifier), redirect)
		ex := good.(provider.CodeExchanger)
		if _, err := ex.Exchange(logintest.Context(t), code, verifier, redirect); err != nil {
			t.Fatal(err)
		}
		if _, err := ex.Exchange(logintest.Context(t), code, verifier, redirect); !errors.Is(err, provider.ErrInvalidGrant) {
			t.Fatalf("second use: err = %v", err)
		}
	})
}

// TestStepUp runs the whole missing_scope round: the API refuses with
// HTTP 200, Challenge names the scope, a second login with the union of
// scopes gets a token the API accepts.
func TestStepUp(t *testing.T) {
	f := newFakeSlack(t, nil)
	d := newDriver(t, f, nil)
	ctx := logintest.Context(t)
	tok, err := pkceLogin(t, f, d, login.PreferPKCE, []string{"chat:write"})
	if err != nil {
		t.Fatal(err)
	}
	call := func(tok *provider.Token) provider.APIResponse {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.URL+"/api/conversations.history", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return provider.APIResponse{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
	}
	resp := call(tok)
	c, ok := d.(provider.Challenger).Challenge(resp)
	if resp.StatusCode != 200 || !ok || !slices.Equal(c.Scopes, []string{"channels:history"}) || !strings.Contains(c.Description, "chat:write") {
		t.Fatalf("challenge on HTTP %d = %+v, %v", resp.StatusCode, c, ok)
	}
	tok2, err := pkceLogin(t, f, d, login.PreferPKCE, append(slices.Clone(tok.Scopes), c.Scopes...))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := d.(provider.Challenger).Challenge(call(tok2)); ok {
		t.Fatalf("stepped-up token still challenged: %+v", c)
	}
}

func TestClaims(t *testing.T) {
	for iss, want := range map[string]bool{
		"https://slack.com":       true,
		"https://slack.com/":      true,
		"http://slack.com":        false,
		"https://api.slack.com":   false,
		"https://acme.slack.com":  false,
		"https://slack.com/oauth": false,
		"https://slack.com.evil":  false,
		"https://slack.com:444":   false,
		"https://github.com":      false,
		"not a url at all :%":     false,
	} {
		if got := slack.Claims(iss); got != want {
			t.Errorf("Claims(%q) = %v, want %v", iss, got, want)
		}
	}
}

func TestNew(t *testing.T) {
	for name, cfg := range map[string]slack.Config{
		"no client ID":   {},
		"http base URL":  {ClientID: "x", BaseURL: "http://slack.com"},
		"base with path": {ClientID: "x", BaseURL: "https://slack.com/api"},
	} {
		if _, err := slack.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	m, err := slack.StaticMetadata(slack.DefaultBaseURL)
	if err != nil || m.Issuer != "https://slack.com" || m.TokenEndpoint != "https://slack.com/api/oauth.v2.access" ||
		m.AuthorizationEndpoint != "https://slack.com/oauth/v2/authorize" || m.DeviceAuthorizationEndpoint != "" {
		t.Fatalf("metadata = %+v, %v", m, err)
	}
}
