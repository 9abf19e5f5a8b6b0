package auth0_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers/auth0"
	"github.com/mcpauth/mcpauth/internal/optest/docstest"
)

// TestDocsSnippets: the auth0 snippets of docs/drivers.md parse and build the driver.
func TestDocsSnippets(t *testing.T) { docstest.DriverSnippets(t, auth0.Registration) }
