package docstest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/provider"
)

// driversDoc is the page of the built-in drivers, from the module root.
const driversDoc = "docs/drivers.md"

// yamlBlock is a fenced YAML code block of a Markdown page.
var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// errNoRequest is what the factory's discovery answers: building a driver
// from configuration must not make a request.
var errNoRequest = errors.New("docstest: the factory made a request")

// DriverSnippets checks the configuration snippets of docs/drivers.md for
// the driver called name: every YAML snippet on the page is a valid config
// file, at least one configures a provider with this driver, and factory
// builds the driver from each such provider without making a request.
func DriverSnippets(t *testing.T, name string, factory provider.DriverFactory) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(moduleRoot(t), driversDoc))
	if err != nil {
		t.Fatal(err)
	}
	built := 0
	for _, m := range yamlBlock.FindAllSubmatch(doc, -1) {
		f, err := config.ParseEnv(driversDoc, m[1], nil)
		if err != nil {
			t.Fatalf("snippet does not parse: %v\n%s", err, m[1])
		}
		for _, p := range f.Providers {
			if p.Driver != name {
				continue
			}
			if _, err := factory(context.Background(), provider.DriverConfig{
				Issuer: p.Issuer, ClientID: p.ClientID, Scopes: p.Scopes, Options: p.Options,
				Discover: func(context.Context, string) (*provider.AuthServerMetadata, error) {
					t.Errorf("provider %s: %v", p.Name, errNoRequest)
					return nil, errNoRequest
				},
			}); err != nil {
				t.Errorf("provider %s: %v", p.Name, err)
			}
			built++
		}
	}
	if built == 0 {
		t.Fatalf("%s has no snippet for driver %q", driversDoc, name)
	}
}

// moduleRoot is the nearest directory above the test's package directory
// that holds a go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("docstest: no go.mod above the test's directory")
		}
		dir = parent
	}
}
