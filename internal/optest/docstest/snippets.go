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
// the driver reg registers: every YAML snippet on the page is a valid config
// file, at least one configures a provider for this driver, and reg.New
// builds the driver from each such provider without making a request. A
// provider is this driver's when it names it (driver: NAME) or, naming
// none, has an issuer reg.Claims accepts, as the registry resolves it. It
// returns how many providers it built, for a driver whose page must show
// more than one.
func DriverSnippets(t *testing.T, reg provider.Registration) int {
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
			if !configures(reg, p) {
				continue
			}
			if _, err := reg.New(context.Background(), provider.DriverConfig{
				Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret, Scopes: p.Scopes,
				Options: p.Options, Endpoints: p.Endpoints, ExtraParams: p.ExtraParams,
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
		t.Fatalf("%s has no snippet for driver %q", driversDoc, reg.Name)
	}
	return built
}

// configures reports whether provider p is built by reg: it names reg's
// driver, or names none and reg claims its issuer.
func configures(reg provider.Registration, p config.Provider) bool {
	if p.Driver != "" {
		return p.Driver == reg.Name
	}
	return reg.Claims != nil && reg.Claims(p.Issuer)
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
