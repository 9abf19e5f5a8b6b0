package corpidp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mcpauth/mcpauth/examples/corpidp"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

// Corp IdP's token endpoint has a quirk of its own: it sends expires_in as
// a decimal (300.0), which x/oauth2 refuses, and scopes comma-separated.
// The contract kit's quirk hooks reproduce that on the real OP; the driver
// must still pass the whole contract, in process and as a plugin.
func TestContractWithCorpTokenQuirk(t *testing.T) {
	bin := buildPlugin(t, t.TempDir())
	for name, newDriver := range map[string]func(*testing.T, drivertest.OP) provider.Driver{
		"in-process": drivertest.InProcess(corpidp.Factory),
		"plugin":     drivertest.Plugin(bin),
	} {
		t.Run(name, func(t *testing.T) {
			var rewritten atomic.Int32
			var metadataEdited bool
			drivertest.Run(t, drivertest.Suite{
				OP:        func(t *testing.T) drivertest.OP { return corpOP{drivertest.Zitadel(t)} },
				NewDriver: newDriver,
				Quirks: drivertest.Quirks{
					Metadata: func(doc map[string]any) {
						// Corp IdP advertises no revocation endpoint.
						delete(doc, "revocation_endpoint")
						metadataEdited = true
					},
					Response: func(path string, status int, h http.Header, body []byte) (int, []byte) {
						if !strings.HasSuffix(path, "/token") || status != http.StatusOK {
							return status, body
						}
						var doc map[string]any
						if json.Unmarshal(body, &doc) != nil || doc["access_token"] == nil {
							return status, body
						}
						doc["expires_in"] = json.Number("300.0")
						if s, ok := doc["scope"].(string); ok {
							doc["scope"] = strings.ReplaceAll(s, " ", ",")
						}
						out, _ := json.Marshal(doc)
						rewritten.Add(1)
						return status, out
					},
				},
			})
			if rewritten.Load() == 0 || !metadataEdited {
				t.Fatalf("the quirks were not applied (token replies rewritten: %d, metadata edited: %v)", rewritten.Load(), metadataEdited)
			}
		})
	}
}
