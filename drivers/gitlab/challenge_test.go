package gitlab_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/gitlab"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

func TestChallenge(t *testing.T) {
	d, err := gitlab.New(gitlab.Config{ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	scopeBody := func(scope string) []byte {
		return logintest.Canned(t, "api/insufficient_scope.json", map[string]string{"$SCOPE": scope})
	}
	expired := http.Header{"Www-Authenticate": {string(logintest.Canned(t, "api/invalid_token_expired.header", nil))}}
	oversized := []byte(`{"error":"insufficient_scope","pad":"` + strings.Repeat("x", 5000) + `","scope":"api"}`)
	tests := []struct {
		name   string
		resp   provider.APIResponse
		scopes []string
	}{
		{"403 JSON body, no header", provider.APIResponse{StatusCode: 403, Header: jsonHeader, Body: scopeBody("api read_api")}, []string{"api", "read_api"}},
		{"403 JSON body, write endpoint", provider.APIResponse{StatusCode: 403, Header: jsonHeader, Body: scopeBody("api")}, []string{"api"}},
		{"403 RFC 6750 header", provider.APIResponse{StatusCode: 403, Header: http.Header{"Www-Authenticate": {`Bearer error="insufficient_scope", scope="read_repository"`}}}, []string{"read_repository"}},
		{"401 expired token", provider.APIResponse{StatusCode: 401, Header: expired, Body: logintest.Canned(t, "api/invalid_token_expired.json", nil)}, nil},
		{"403 insufficient_scope without scope", provider.APIResponse{StatusCode: 403, Header: jsonHeader, Body: []byte(`{"error":"insufficient_scope"}`)}, nil},
		{"403 other refusal", provider.APIResponse{StatusCode: 403, Header: jsonHeader, Body: []byte(`{"message":"403 Forbidden"}`)}, nil},
		{"403 HTML", provider.APIResponse{StatusCode: 403, Header: http.Header{}, Body: []byte("<html>403</html>")}, nil},
		{"403 body past the read limit", provider.APIResponse{StatusCode: 403, Header: jsonHeader, Body: oversized}, nil},
		{"200 with the body", provider.APIResponse{StatusCode: 200, Header: jsonHeader, Body: scopeBody("api")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := d.Challenge(tt.resp)
			if ok != (tt.scopes != nil) {
				t.Fatalf("ok = %v, challenge %+v", ok, c)
			}
			if ok && !slices.Equal(c.Scopes, tt.scopes) {
				t.Fatalf("scopes = %q, want %q", c.Scopes, tt.scopes)
			}
		})
	}
}

// TestChallengeFromFake: the refusal a real request gets is read as a
// challenge for the scopes the endpoint accepts.
func TestChallengeFromFake(t *testing.T) {
	f := newFakeGitLab(t, nil)
	d := newDriver(t, f, nil)
	tok, _, _, err := deviceLogin(t, f, d, []string{"openid"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(logintest.Context(t), http.MethodGet, d.APIURL()+"/user", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.Header.Get("WWW-Authenticate") != "" {
		t.Fatal("the fake sent WWW-Authenticate with its 403; GitLab does not")
	}
	c, ok := d.Challenge(provider.APIResponse{StatusCode: resp.StatusCode, Header: resp.Header, Body: head})
	if !ok || !slices.Equal(c.Scopes, []string{"api", "read_api", "read_user"}) || c.Description == "" {
		t.Fatalf("challenge = %+v, %v (HTTP %d)", c, ok, resp.StatusCode)
	}
}
