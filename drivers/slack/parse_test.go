package slack

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

func testdata(t *testing.T, name string, vars ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(vars...).Replace(string(b)))
}

func TestParseAccess(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	vars := []string{"$ACCESS_TOKEN", "xoxe.xoxp-1-abc", "$REFRESH_TOKEN", "xoxe-1-def", "$SCOPE", "chat:write,channels:history"}
	tests := []struct {
		name       string
		body       []byte
		wantToken  string
		wantExpiry time.Time
		wantErr    error
		wantCode   string
	}{
		{name: "user token nested under authed_user", body: testdata(t, "access_user.json", vars...),
			wantToken: "xoxe.xoxp-1-abc", wantExpiry: now.Add(12 * time.Hour)},
		{name: "refresh reply: user token at the top level", body: testdata(t, "refresh_user.json", vars...),
			wantToken: "xoxe.xoxp-1-abc", wantExpiry: now.Add(12 * time.Hour)},
		{name: "no rotation: no expiry", body: testdata(t, "access_user_no_rotation.json", vars...), wantToken: "xoxe.xoxp-1-abc"},
		{name: "bot token only", body: testdata(t, "access_bot_only.json"), wantErr: ErrNoUserToken},
		{name: "ok true but empty", body: []byte(`{"ok":true}`), wantErr: ErrNoUserToken},
		{name: "ok missing", body: []byte(`{"authed_user":{"access_token":"x"}}`), wantCode: "invalid_response"},
		{name: "not JSON", body: []byte(`<html>502</html>`), wantCode: "invalid_response"},
		{name: "invalid_code", body: testdata(t, "errors/invalid_code.json"), wantErr: provider.ErrInvalidGrant, wantCode: "invalid_code"},
		{name: "code_already_used", body: testdata(t, "errors/code_already_used.json"), wantErr: provider.ErrInvalidGrant, wantCode: "code_already_used"},
		{name: "invalid_refresh_token", body: testdata(t, "errors/invalid_refresh_token.json"), wantErr: provider.ErrInvalidGrant, wantCode: "invalid_refresh_token"},
		{name: "bad_redirect_uri", body: testdata(t, "errors/bad_redirect_uri.json"), wantErr: provider.ErrInvalidGrant, wantCode: "bad_redirect_uri"},
		{name: "invalid_client_id", body: testdata(t, "errors/invalid_client_id.json"), wantErr: provider.ErrInvalidClient, wantCode: "invalid_client_id"},
		{name: "bad_client_secret", body: testdata(t, "errors/bad_client_secret.json"), wantErr: provider.ErrInvalidClient, wantCode: "bad_client_secret"},
		{name: "invalid_grant_type", body: testdata(t, "errors/invalid_grant_type.json"), wantErr: provider.ErrGrantUnsupported, wantCode: "invalid_grant_type"},
		{name: "other error keeps its code", body: testdata(t, "errors/invalid_arguments.json"), wantCode: "invalid_arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := parseAccess(200, tt.body, now)
			if tt.wantErr != nil || tt.wantCode != "" {
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var oe *provider.OAuthError
				if tt.wantCode != "" && (!errors.As(err, &oe) || oe.Code != tt.wantCode || oe.StatusCode != 200) {
					t.Fatalf("err = %v, want OAuthError %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != tt.wantToken || !tok.Expiry.Equal(tt.wantExpiry) || tok.TokenType != "Bearer" ||
				!slices.Equal(tok.Scopes, []string{"chat:write", "channels:history"}) {
				t.Fatalf("token = %v", tok)
			}
		})
	}
}

func TestChallenge(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   []byte
		ok     bool
		scopes []string
		desc   string
	}{
		{"missing_scope with HTTP 200", 200, testdata(t, "api/missing_scope.json"), true, []string{"channels:history"}, "the token has chat:write,users:read"},
		{"several needed", 200, testdata(t, "api/missing_scope_multi.json"), true, []string{"channels:history", "groups:history"}, "Slack needs channels:history,groups:history"},
		{"bot-only scope needed: said so", 200, testdata(t, "api/missing_scope_bot.json"), true, []string{"chat:write.public"}, "bot tokens only"},
		{"invalid_auth is not a scope challenge", 200, testdata(t, "api/invalid_auth.json"), false, nil, ""},
		{"token_expired is not a scope challenge", 200, testdata(t, "api/token_expired.json"), false, nil, ""},
		{"not_in_channel is not a scope challenge", 200, testdata(t, "api/not_in_channel.json"), false, nil, ""},
		{"ok:true", 200, testdata(t, "api/ok.json"), false, nil, ""},
		{"missing_scope without needed", 200, []byte(`{"ok":false,"error":"missing_scope"}`), false, nil, ""},
		{"ok absent", 200, []byte(`{"error":"missing_scope","needed":"x"}`), false, nil, ""},
		{"not JSON", 403, []byte(`<html>forbidden</html>`), false, nil, ""},
		{"empty body", 429, nil, false, nil, ""},
	}
	d := &Driver{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := d.Challenge(provider.APIResponse{StatusCode: tt.status, Body: tt.body})
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tt.ok, c)
			}
			if ok && (!slices.Equal(c.Scopes, tt.scopes) || !strings.Contains(c.Description, tt.desc)) {
				t.Fatalf("challenge = %+v, want %q and %q", c, tt.scopes, tt.desc)
			}
		})
	}
}
