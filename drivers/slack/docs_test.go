package slack_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers/slack"
	"github.com/mcpauth/mcpauth/internal/optest/docstest"
)

// TestDocsSnippets: the slack snippets of docs/drivers.md parse and build the driver.
func TestDocsSnippets(t *testing.T) { docstest.DriverSnippets(t, slack.Registration) }
