package entra_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers/entra"
	"github.com/mcpauth/mcpauth/internal/optest/docstest"
)

// TestDocsSnippets: the entra snippets of docs/drivers.md (found by the
// issuer entra claims: the config file cannot name driver: entra yet) parse
// and build the driver; the page shows both the multi-tenant and the
// single-tenant issuer.
func TestDocsSnippets(t *testing.T) {
	if n := docstest.DriverSnippets(t, entra.Registration); n < 2 {
		t.Fatalf("docs/drivers.md has %d snippets resolving to entra, want 2", n)
	}
}
