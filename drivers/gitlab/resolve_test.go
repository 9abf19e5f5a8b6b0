package gitlab_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/gitlab"
	"github.com/mcpauth/mcpauth/registry"
)

// TestResolve: the catalogue gives gitlab.com to this driver, a
// self-managed instance to it when configured, and look-alikes to the
// generic driver.
func TestResolve(t *testing.T) {
	for _, tt := range []struct{ explicit, issuer, want string }{
		{"", "https://gitlab.com", gitlab.Name},
		{"", "https://gitlab.com/", gitlab.Name},
		{gitlab.Name, "https://gitlab.corp.example", gitlab.Name},
		{"", "https://gitlab.corp.example", "oidc"},
		{"", "https://gitlab.com.evil.example", "oidc"},
		{"", "https://evilgitlab.com", "oidc"},
		{"", "https://www.gitlab.com", "oidc"},
		{"", "http://gitlab.com", "oidc"},
		{"", "https://gitlab.com:8443", "oidc"},
		{"", "https://gitlab.com/groups/acme", "oidc"},
	} {
		reg, reason, err := registry.Resolve(drivers.Builtin, tt.explicit, tt.issuer)
		if err != nil || reg.Name != tt.want {
			t.Errorf("Resolve(%q, %q) = %s (%s), %v; want %s", tt.explicit, tt.issuer, reg.Name, reason, err, tt.want)
		}
	}
}
