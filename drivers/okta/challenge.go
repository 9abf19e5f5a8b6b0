package okta

import (
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Challenge reads RFC 6750 §3 insufficient_scope challenges, which Okta's
// APIs send on a 403. A DPoP-bound token is challenged in the DPoP scheme
// with the same parameters (RFC 9449 §7.1); it is read the same way.
func (d *Driver) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	return oidc.InsufficientScope(resp, "Bearer", "DPoP")
}
