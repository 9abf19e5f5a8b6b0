package oidc_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/internal/optest/docstest"
	"github.com/mcpauth/mcpauth/registry"
)

// TestDocsSnippets: the oidc snippets of docs/drivers.md parse and build the
// driver through the factory hosts use (the package has none of its own).
func TestDocsSnippets(t *testing.T) {
	factory, ok := registry.BuiltinFactory(oidc.Name)
	if !ok {
		t.Fatal("oidc is not a built-in driver")
	}
	docstest.DriverSnippets(t, oidc.Name, factory)
}
