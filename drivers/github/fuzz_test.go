package github

import (
	"net/http"
	"testing"

	"github.com/mcpauth/mcpauth/provider"
)

// FuzzChallenge: any status, scope headers and body are read without
// panic, and a challenge found always asks for something.
func FuzzChallenge(f *testing.F) {
	f.Add(403, "repo, read:org", "public_repo", "", `{"message":"Must have admin rights"}`)
	f.Add(404, "repo", "", "", `{"message":"Not Found"}`)
	f.Add(403, "", "", "contents=read; issues=write,pull_requests=read", `{"message":"Resource not accessible by integration"}`)
	f.Add(403, ",,", " ", ";;,", `Resource not accessible by integration`)
	f.Fuzz(func(t *testing.T, status int, accepted, has, permissions, body string) {
		h := http.Header{}
		h.Set(headerAcceptedOAuthScopes, accepted)
		h.Set(headerOAuthScopes, has)
		h.Set(headerAcceptedPermissions, permissions)
		c, ok := challenge(provider.APIResponse{StatusCode: status, Header: h, Body: []byte(body)})
		if ok && len(c.Scopes) == 0 && len(c.Permissions) == 0 {
			t.Fatalf("a challenge that asks for nothing: %+v", c)
		}
	})
}
