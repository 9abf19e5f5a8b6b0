package slack

import (
	"encoding/json"
	"fmt"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Challenge reads a Web API refusal. Slack answers with HTTP 200 and
// {"ok":false,"error":"missing_scope","needed":"…","provided":"…"}; needed
// is the comma-separated scopes to add. Every other ok:false error
// (invalid_auth, token_expired, token_revoked, not_in_channel, …) is not a
// scope challenge. A host must therefore hand Slack replies to Challenge
// whatever their status.
func (d *Driver) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	return challenge(resp)
}

func challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	var r struct {
		OK       *bool  `json:"ok"`
		Error    string `json:"error"`
		Needed   string `json:"needed"`
		Provided string `json:"provided"`
	}
	if json.Unmarshal(resp.Body, &r) != nil || r.OK == nil || *r.OK || r.Error != "missing_scope" {
		return nil, false
	}
	needed := oidc.ParseScopes(r.Needed)
	if len(needed) == 0 {
		return nil, false
	}
	desc := fmt.Sprintf("missing_scope: Slack needs %s; the token has %s", r.Needed, r.Provided)
	if err := CheckUserScopes(needed); err != nil {
		desc += " (" + err.Error() + ")"
	}
	return &provider.ScopeChallenge{Scopes: needed, Description: desc}, true
}
