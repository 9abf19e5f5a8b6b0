package okta_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/internal/optest/docstest"
)

// TestDocsSnippets: the okta snippets of docs/drivers.md parse and build the driver.
func TestDocsSnippets(t *testing.T) { docstest.DriverSnippets(t, okta.Registration) }
