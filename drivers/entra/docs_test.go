package entra_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers/entra"
	"github.com/mcpauth/mcpauth/internal/optest/docstest"
)

// TestDocsSnippets: the entra snippets of docs/drivers.md parse and build the driver.
func TestDocsSnippets(t *testing.T) { docstest.DriverSnippets(t, entra.Name, entra.Registration.New) }
