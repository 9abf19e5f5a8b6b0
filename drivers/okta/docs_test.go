package okta_test

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/provider"
)

// TestDocsSnippets checks the config snippets of docs/drivers.md for this
// driver: each is a valid config file, and the driver builds from it.
func TestDocsSnippets(t *testing.T) {
	doc, err := os.ReadFile("../../docs/drivers.md")
	if err != nil {
		t.Fatal(err)
	}
	built := 0
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1) {
		f, err := config.ParseEnv("docs/drivers.md", m[1], nil)
		if err != nil {
			t.Fatalf("snippet does not parse: %v\n%s", err, m[1])
		}
		for _, p := range f.Providers {
			if p.Driver != okta.Name {
				continue
			}
			if _, err := okta.Factory(context.Background(), provider.DriverConfig{
				Issuer: p.Issuer, ClientID: p.ClientID, Scopes: p.Scopes, Options: p.Options,
				Discover: func(context.Context, string, ...string) (*provider.AuthServerMetadata, error) {
					t.Error("the factory made a request")
					return nil, context.Canceled
				},
			}); err != nil {
				t.Errorf("provider %s: %v", p.Name, err)
			}
			built++
		}
	}
	if built == 0 {
		t.Fatal("docs/drivers.md has no snippet for this driver")
	}
}
