package github

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/provider"
)

func apiBody(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "api", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChallenge(t *testing.T) {
	notFound := apiBody(t, "not_found.json")
	notAccessible := apiBody(t, "not_accessible_by_integration.json")
	rateLimited := apiBody(t, "rate_limited.json")
	adminRights := apiBody(t, "must_have_admin_rights.json")
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name        string
		status      int
		header      http.Header
		body        []byte
		ok          bool
		scopes      []string
		permissions []string
		description string
	}{
		{name: "OAuth App: private repo hidden behind 404", status: 404, body: notFound,
			header: hdr("X-OAuth-Scopes", "read:org", "X-Accepted-OAuth-Scopes", "repo"),
			ok:     true, scopes: []string{"repo"}, description: "Not Found: GitHub accepts any of the scopes repo; the token has read:org"},
		{name: "OAuth App: least privileged of the accepted scopes", status: 403,
			header: hdr("X-OAuth-Scopes", "gist", "X-Accepted-OAuth-Scopes", "admin:org, read:org, repo, user, write:org"),
			ok:     true, scopes: []string{"read:org"}, description: "admin:org, read:org, repo, user, write:org"},
		{name: "OAuth App: narrower scope first even when listed last", status: 403,
			header: hdr("X-Accepted-OAuth-Scopes", "repo, public_repo"),
			ok:     true, scopes: []string{"public_repo"}, description: "the token has none"},
		{name: "OAuth App: token without X-OAuth-Scopes", status: 403,
			header: hdr("X-Accepted-OAuth-Scopes", "user:email"), ok: true, scopes: []string{"user:email"}},
		{name: "OAuth App: an accepted scope is held, so not about scopes", status: 404, body: notFound,
			header: hdr("X-OAuth-Scopes", "repo, gist", "X-Accepted-OAuth-Scopes", "repo")},
		{name: "OAuth App: a parent scope implies the accepted one", status: 403, body: adminRights,
			header: hdr("X-OAuth-Scopes", "admin:org", "X-Accepted-OAuth-Scopes", "read:org")},
		{name: "OAuth App: implied two levels down", status: 403,
			header: hdr("X-OAuth-Scopes", "admin:public_key", "X-Accepted-OAuth-Scopes", "read:public_key")},
		{name: "OAuth App: endpoint needs no scope", status: 404, body: notFound,
			header: hdr("X-OAuth-Scopes", "", "X-Accepted-OAuth-Scopes", "")},
		{name: "401 bad credentials is not a scope challenge", status: 401,
			header: hdr("X-Accepted-OAuth-Scopes", "repo")},
		{name: "200 is never a challenge", status: 200,
			header: hdr("X-Accepted-OAuth-Scopes", "repo", "X-Accepted-GitHub-Permissions", "contents=read")},
		{name: "no headers", status: 403, body: adminRights, header: hdr()},
		{name: "GitHub App: one permission", status: 403, body: notAccessible,
			header: hdr("X-Accepted-GitHub-Permissions", "contents=read"),
			ok:     true, permissions: []string{"contents=read"}, description: "Resource not accessible by integration: the GitHub App needs the permission(s) contents=read"},
		{name: "GitHub App: alternatives separated by ;", status: 403, body: notAccessible,
			header: hdr("X-Accepted-GitHub-Permissions", "issues=write; pull_requests=write"),
			ok:     true, permissions: []string{"issues=write", "pull_requests=write"}, description: "issues=write or pull_requests=write"},
		{name: "GitHub App: an alternative needing two permissions", status: 403, body: notAccessible,
			header: hdr("X-Accepted-GitHub-Permissions", "contents=read, metadata=read;pull_requests=read"),
			ok:     true, permissions: []string{"contents=read,metadata=read", "pull_requests=read"}},
		{name: "GitHub App: body cut short after the message", status: 403, body: notAccessible[:70],
			header: hdr("X-Accepted-GitHub-Permissions", "contents=read"), ok: true, permissions: []string{"contents=read"},
			description: "Resource not accessible by integration"},
		{name: "GitHub App: rate limit with the permissions header", status: 403, body: rateLimited,
			header: hdr("X-Accepted-GitHub-Permissions", "contents=read")},
		{name: "GitHub App: message without the header", status: 403, body: notAccessible, header: hdr()},
		{name: "GitHub App: permissions header on a 404", status: 404, body: notFound,
			header: hdr("X-Accepted-GitHub-Permissions", "contents=read")},
	}
	d := &Driver{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := d.Challenge(provider.APIResponse{StatusCode: tt.status, Header: tt.header, Body: tt.body})
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tt.ok, c)
			}
			if !ok {
				return
			}
			if !slices.Equal(c.Scopes, tt.scopes) || !slices.Equal(c.Permissions, tt.permissions) {
				t.Fatalf("challenge = %+v, want scopes %q permissions %q", c, tt.scopes, tt.permissions)
			}
			if !strings.Contains(c.Description, tt.description) {
				t.Errorf("description = %q, want it to say %q", c.Description, tt.description)
			}
		})
	}
}

func TestGrants(t *testing.T) {
	got := grants("admin:org")
	for _, s := range []string{"admin:org", "write:org", "read:org", "manage_runners:org"} {
		if !slices.Contains(got, s) {
			t.Errorf("admin:org does not grant %s: %v", s, got)
		}
	}
	if g := grants("gist"); !slices.Equal(g, []string{"gist"}) {
		t.Errorf("grants(gist) = %v", g)
	}
}
