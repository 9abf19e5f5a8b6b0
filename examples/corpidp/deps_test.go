package corpidp_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPluginLinksNoCatalogue: an external driver plugin links the driver
// contract, the generic driver and the plugin SDK, not the host's registry
// nor the built-in issuer drivers (a catalogue that imports every
// implementation makes every binary carry all of them).
func TestPluginLinksNoCatalogue(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./cmd/corpidp-driver").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	const module = "github.com/mcpauth/mcpauth/"
	forbidden := map[string]bool{}
	for _, p := range []string{"registry", "drivers", "drivers/github", "drivers/slack", "drivers/okta", "sdk", "login", "tokenstore"} {
		forbidden[module+p] = true
	}
	linked := map[string]bool{}
	for _, d := range deps {
		linked[d] = true
		if forbidden[d] {
			t.Errorf("the plugin links %s", d)
		}
	}
	// The list must be the real one: the packages the plugin needs are in it.
	for _, p := range []string{"provider", "drivers/oidc", "sdk/driver"} {
		if !linked[module+p] {
			t.Fatalf("go list -deps lacks %s%s: %q", module, p, deps)
		}
	}
}
