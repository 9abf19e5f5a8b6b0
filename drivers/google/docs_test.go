package google_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers/google"
	"github.com/mcpauth/mcpauth/internal/optest/docstest"
)

// TestDocsSnippets: the google snippets of docs/drivers.md (found by the
// issuer google claims) parse and build the driver.
func TestDocsSnippets(t *testing.T) { docstest.DriverSnippets(t, google.Registration) }
