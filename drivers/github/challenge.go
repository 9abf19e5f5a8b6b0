package github

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mcpauth/mcpauth/provider"
)

// Response headers GitHub's REST API sets (GitHub docs, "Scopes for OAuth
// apps" and "Troubleshooting the REST API").
const (
	headerOAuthScopes         = "X-OAuth-Scopes"                // scopes the token has
	headerAcceptedOAuthScopes = "X-Accepted-OAuth-Scopes"       // scopes the endpoint checks for
	headerAcceptedPermissions = "X-Accepted-GitHub-Permissions" // GitHub App permissions the endpoint needs
)

// notAccessibleByIntegration is the message of a 403 refusing a GitHub App
// token for lack of an app permission.
const notAccessibleByIntegration = "Resource not accessible by integration"

// impliedScopes is GitHub's scope hierarchy: a scope grants the ones listed
// under it (GitHub docs, "Scopes for OAuth apps", available scopes).
var impliedScopes = map[string][]string{
	"repo":                  {"repo:status", "repo_deployment", "public_repo", "repo:invite", "security_events"},
	"admin:repo_hook":       {"write:repo_hook"},
	"write:repo_hook":       {"read:repo_hook"},
	"admin:org":             {"write:org", "manage_runners:org"},
	"write:org":             {"read:org"},
	"admin:public_key":      {"write:public_key"},
	"write:public_key":      {"read:public_key"},
	"user":                  {"read:user", "user:email", "user:follow"},
	"project":               {"read:project"},
	"write:packages":        {"read:packages"},
	"admin:gpg_key":         {"write:gpg_key"},
	"write:gpg_key":         {"read:gpg_key"},
	"admin:ssh_signing_key": {"write:ssh_signing_key"},
	"write:ssh_signing_key": {"read:ssh_signing_key"},
	"admin:enterprise":      {"manage_runners:enterprise", "manage_billing:enterprise", "read:enterprise"},
	"audit_log":             {"read:audit_log"},
	"codespace":             {"codespace:secrets"},
}

// grants returns scope and every scope it implies.
func grants(scope string) []string {
	out := []string{scope}
	for i := 0; i < len(out); i++ {
		for _, s := range impliedScopes[out[i]] {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Challenge reads GitHub's refusals:
//
//   - a GitHub App token refused with 403 "Resource not accessible by
//     integration" and X-Accepted-GitHub-Permissions (e.g. "contents=read";
//     alternatives separated by ";"): the permissions go in
//     ScopeChallenge.Permissions, one alternative per entry. They cannot be
//     requested at login; the app's owner must grant them.
//   - an OAuth App token refused with 403 or 404 (GitHub hides private
//     resources behind 404) and X-Accepted-OAuth-Scopes: the endpoint
//     accepts any one of those scopes. When the token (X-OAuth-Scopes, with
//     the scopes each implies) has none of them, the least privileged
//     accepted scope is asked for. When it has one, the refusal is not about
//     scopes (a missing resource, SAML SSO, repository access) and ok is false.
func (d *Driver) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	return challenge(resp)
}

func challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
		return nil, false
	}
	if c, ok := permissionChallenge(resp); ok {
		return c, true
	}
	return scopeChallenge(resp)
}

func permissionChallenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	if resp.StatusCode != http.StatusForbidden {
		return nil, false
	}
	var alternatives []string
	for _, h := range resp.Header.Values(headerAcceptedPermissions) {
		for _, alt := range strings.Split(h, ";") {
			var perms []string
			for _, p := range strings.Split(alt, ",") {
				if p = strings.TrimSpace(p); p != "" {
					perms = append(perms, p)
				}
			}
			if len(perms) > 0 {
				alternatives = append(alternatives, strings.Join(perms, ","))
			}
		}
	}
	// The permissions header is on every response to an app token; only
	// this message says the refusal is about them (not rate limits, say).
	// The body may be cut short, so the message is looked for as bytes.
	if len(alternatives) == 0 || !bytes.Contains(resp.Body, []byte(notAccessibleByIntegration)) {
		return nil, false
	}
	msg := apiMessage(resp.Body)
	if msg == "" {
		msg = notAccessibleByIntegration
	}
	return &provider.ScopeChallenge{
		Permissions: alternatives,
		Description: fmt.Sprintf("%s: the GitHub App needs the permission(s) %s; an owner must grant them in the app's settings (they cannot be requested at login)",
			msg, strings.Join(alternatives, " or ")),
	}, true
}

func scopeChallenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	accepted := headerList(resp.Header, headerAcceptedOAuthScopes)
	if len(accepted) == 0 {
		return nil, false
	}
	granted := headerList(resp.Header, headerOAuthScopes)
	for _, g := range granted {
		for _, s := range grants(g) {
			if slices.Contains(accepted, s) {
				return nil, false
			}
		}
	}
	// Least privileged: the accepted scope that implies the fewest others;
	// ties go to GitHub's order.
	want := accepted[0]
	for _, s := range accepted[1:] {
		if len(grants(s)) < len(grants(want)) {
			want = s
		}
	}
	desc := fmt.Sprintf("GitHub accepts any of the scopes %s; the token has %s",
		strings.Join(accepted, ", "), orNone(granted))
	if msg := apiMessage(resp.Body); msg != "" {
		desc = msg + ": " + desc
	}
	return &provider.ScopeChallenge{Scopes: []string{want}, Description: desc}, true
}

// headerList splits a comma-separated header ("repo, read:org").
func headerList(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// apiMessage is the "message" of a GitHub REST error body, if any.
func apiMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Message
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
