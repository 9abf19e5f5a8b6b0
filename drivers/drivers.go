// Package drivers is the catalogue of built-in drivers, as data: hosts hand
// Builtin to the registry. Linking it also lets the binary serve each
// built-in driver as a plugin of itself (see driverplugin.ServeBuiltins).
package drivers

import (
	"github.com/mcpauth/mcpauth/drivers/github"
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/drivers/slack"
	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/provider"
)

// Builtin lists the built-in drivers; issuer claims are consulted in this order.
var Builtin = []provider.Registration{
	{Name: github.Name, Claims: github.Claims, Claim: "github claims https://github.com (static endpoints, no discovery)", New: github.Factory},
	{Name: slack.Name, Claims: slack.Claims, Claim: "slack claims https://slack.com (OAuth v2 user tokens, PKCE only)", New: slack.Factory},
	{Name: okta.Name, Claims: okta.Claims, Claim: "okta claims *.okta.com, *.oktapreview.com and *.okta-emea.com", New: okta.Factory},
	oidc.Registration,
}

// Names lists the built-in driver names in catalogue order.
func Names() []string {
	out := make([]string, len(Builtin))
	for i, r := range Builtin {
		out[i] = r.Name
	}
	return out
}

func init() { driverplugin.ServeBuiltins(Builtin) }
