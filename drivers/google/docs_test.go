package google_test

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/google"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
)

// TestDocsSnippets: every snippet of docs/drivers.md parses, and those
// whose provider resolves to google (by its issuer, as the registry
// resolves it: the config file's driver list does not name google, so the
// snippets leave driver: out and docstest.DriverSnippets cannot find them)
// build the driver without a request.
func TestDocsSnippets(t *testing.T) {
	const page = "../../docs/drivers.md"
	doc, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	built := 0
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1) {
		f, err := config.ParseEnv(page, m[1], nil)
		if err != nil {
			t.Fatalf("snippet does not parse: %v\n%s", err, m[1])
		}
		for _, p := range f.Providers {
			if reg, _, err := registry.Resolve(drivers.Builtin, p.Driver, p.Issuer); err != nil || reg.Name != google.Name {
				continue
			}
			_, err := google.Registration.New(context.Background(), provider.DriverConfig{
				Issuer: p.Issuer, ClientID: p.ClientID, Scopes: p.Scopes, Options: p.Options,
				Discover: func(context.Context, string) (*provider.AuthServerMetadata, error) {
					t.Errorf("provider %s: the factory made a request", p.Name)
					return nil, context.Canceled
				},
			})
			if err != nil {
				t.Errorf("provider %s: %v", p.Name, err)
			}
			built++
		}
	}
	if built < 1 {
		t.Fatalf("%s has %d snippets resolving to google, want 1", page, built)
	}
}
