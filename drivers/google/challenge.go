package google

import (
	"encoding/json"
	"net/http"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// scopeInsufficient is the error reason of a Google API refusing a token
// for its scopes.
const scopeInsufficient = "ACCESS_TOKEN_SCOPE_INSUFFICIENT"

// Challenge reads Google APIs' refusals: a 403 with WWW-Authenticate:
// Bearer error="insufficient_scope", scope="…" names the scopes (RFC 6750);
// a body whose error.details[].reason is ACCESS_TOKEN_SCOPE_INSUFFICIENT
// without that header names none, and is reported as such.
func (d *Driver) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	if c, ok := oidc.BearerChallenge(resp); ok {
		return c, true
	}
	if resp.StatusCode != http.StatusForbidden {
		return nil, false
	}
	var body struct {
		Error struct {
			Details []struct {
				Reason   string            `json:"reason"`
				Metadata map[string]string `json:"metadata"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(resp.Body, &body) != nil {
		return nil, false
	}
	for _, det := range body.Error.Details {
		if det.Reason == scopeInsufficient {
			return &provider.ScopeChallenge{Description: scopeInsufficient + ": the token lacks a scope of " + det.Metadata["service"] + " that the API does not name; add it to the provider's scopes"}, true
		}
	}
	return nil, false
}
