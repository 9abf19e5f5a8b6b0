package gitlab

import (
	"encoding/json"
	"net/http"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// maxChallengeBody is how much of a refusal's body Challenge reads: GitLab's
// error object is about 150 bytes.
const maxChallengeBody = 4 << 10

// Challenge reads GitLab's scope refusal: HTTP 403 with the JSON body
// {"error":"insufficient_scope","error_description":"…","scope":"api read_api"}
// and no WWW-Authenticate header. scope lists the scopes the endpoint
// accepts; all of them are asked for, which includes the one that was
// missing. An RFC 6750 §3 header challenge is read first, should an
// instance send one. A 401 invalid_token (an expired or revoked token) is
// not a scope challenge.
func (d *Driver) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	return challenge(resp)
}

func challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	if c, ok := oidc.BearerChallenge(resp); ok {
		return c, true
	}
	if resp.StatusCode != http.StatusForbidden {
		return nil, false
	}
	body := resp.Body
	if len(body) > maxChallengeBody {
		body = body[:maxChallengeBody]
	}
	var r struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Scope       string `json:"scope"`
	}
	if json.Unmarshal(body, &r) != nil || r.Error != "insufficient_scope" {
		return nil, false
	}
	scopes := oidc.ParseScopes(r.Scope)
	if len(scopes) == 0 {
		return nil, false
	}
	return &provider.ScopeChallenge{Scopes: scopes, Description: r.Description}, true
}
