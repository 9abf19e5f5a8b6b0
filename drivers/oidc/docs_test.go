package oidc_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/internal/optest/docstest"
)

// TestDocsSnippets: the oidc snippets of docs/drivers.md parse and build the
// driver through its registration, the factory hosts use.
func TestDocsSnippets(t *testing.T) {
	docstest.DriverSnippets(t, oidc.Registration)
}
