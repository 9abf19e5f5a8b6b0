package auth0_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/auth0"
	"github.com/mcpauth/mcpauth/registry"
)

// TestResolve: the catalogue gives tenant domains to this driver, a custom
// domain to it when configured, and look-alikes to the generic driver.
func TestResolve(t *testing.T) {
	for _, tt := range []struct{ explicit, issuer, want string }{
		{"", "https://acme.auth0.com/", auth0.Name},
		{"", "https://acme.auth0.com", auth0.Name},
		{"", "https://acme.eu.auth0.com/", auth0.Name},
		{"", "https://acme.uk.auth0.com/", auth0.Name},
		{auth0.Name, "https://login.acme.example/", auth0.Name},
		{"", "https://login.acme.example/", "oidc"},
		{"", "https://auth0.com.evil.example/", "oidc"},
		{"", "https://acme.auth0.com.evil.example/", "oidc"},
		{"", "https://a.b.auth0.com/", "oidc"},
		{"", "https://auth0.com/", "oidc"},
	} {
		reg, reason, err := registry.Resolve(drivers.Builtin, tt.explicit, tt.issuer)
		if err != nil || reg.Name != tt.want {
			t.Errorf("Resolve(%q, %q) = %s (%s), %v; want %s", tt.explicit, tt.issuer, reg.Name, reason, err, tt.want)
		}
	}
}
