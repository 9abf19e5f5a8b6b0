package slack

import (
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

// FuzzChallenge: any Web API reply is read without panic; a challenge is
// only a missing_scope refusal naming scopes.
func FuzzChallenge(f *testing.F) {
	f.Add(200, `{"ok":false,"error":"missing_scope","needed":"chat:write,channels:history","provided":"users:read"}`)
	f.Add(200, `{"ok":false,"error":"invalid_auth"}`)
	f.Add(200, `{"ok":false,"error":"missing_scope","needed":",,"}`)
	f.Add(403, `{"ok":"no"}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		c, ok := challenge(provider.APIResponse{StatusCode: status, Body: []byte(body)})
		if ok && (len(c.Scopes) == 0 || !strings.Contains(body, "missing_scope")) {
			t.Fatalf("challenge %+v from %q", c, body)
		}
	})
}

// FuzzParseAccess: any oauth.v2.access reply is read without panic; a
// token comes back only with an access token, and an error never quotes
// the secret a reply carries.
func FuzzParseAccess(f *testing.F) {
	for _, r := range logintest.UnparseableTokenReplies {
		f.Add(r.Status, r.Body)
	}
	f.Add(200, `{"ok":true,"authed_user":{"access_token":"xoxp","expires_in":43200.0,"scope":"a,b"}}`)
	f.Add(200, `{"ok":true,"token_type":"user","access_token":"xoxp","refresh_token":"xoxe","expires_in":"43200"}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		tok, err := parseAccess(status, []byte(body), time.Unix(0, 0))
		if (err == nil) != (tok != nil) || tok != nil && tok.AccessToken == "" {
			t.Fatalf("token %v, err %v", tok, err)
		}
		if err != nil && strings.Contains(body, logintest.Secret) && strings.Contains(err.Error(), logintest.Secret) {
			t.Fatalf("the error quotes the secret: %v", err)
		}
	})
}
