package drivers

import (
	"slices"

	"github.com/mcpauth/mcpauth/drivers/auth0"
	"github.com/mcpauth/mcpauth/drivers/entra"
	"github.com/mcpauth/mcpauth/drivers/github"
	"github.com/mcpauth/mcpauth/drivers/gitlab"
	"github.com/mcpauth/mcpauth/drivers/google"
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/drivers/slack"
	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/provider"
)

// Builtin is the catalogue of the drivers that ship with mcpauth, the
// generic one first. It is data: a host passes it (or its own list) to the
// registry, and a binary that does not import this package links none of
// the issuer drivers.
var Builtin = []provider.Registration{
	oidc.Registration,
	github.Registration,
	slack.Registration,
	okta.Registration,
	entra.Registration,
	google.Registration,
	gitlab.Registration,
	auth0.Registration,
}

// Lookup returns the built-in driver called name.
func Lookup(name string) (provider.Registration, bool) {
	i := slices.IndexFunc(Builtin, func(r provider.Registration) bool { return r.Name == name })
	if i < 0 {
		return provider.Registration{}, false
	}
	return Builtin[i], true
}

// Names lists the built-in drivers' names, in catalogue order.
func Names() []string {
	names := make([]string, len(Builtin))
	for i, r := range Builtin {
		names[i] = r.Name
	}
	return names
}

// init records the catalogue as what this binary serves as plugins of
// itself, and turns the binary into a driver plugin when a host started it
// to serve a built-in driver: hosts run built-in drivers as subprocesses by
// re-executing their own binary, so nothing extra is installed. An ordinary
// start never has both the go-plugin magic cookie and the driver name set.
func init() { driverplugin.ServeBuiltins(Builtin) }
