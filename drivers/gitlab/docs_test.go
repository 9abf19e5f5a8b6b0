package gitlab_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers/gitlab"
	"github.com/mcpauth/mcpauth/internal/optest/docstest"
)

// TestDocsSnippets: the gitlab snippets of docs/drivers.md parse and build the driver.
func TestDocsSnippets(t *testing.T) { docstest.DriverSnippets(t, gitlab.Registration) }
