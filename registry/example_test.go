package registry_test

import (
	"fmt"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/registry"
)

// Open resolves each provider of a config file to a driver from the
// catalogue it is given: a driver that claims the issuer, else the generic
// one. It makes no request and starts no plugin.
func ExampleOpen() {
	f, err := config.Parse("config.yaml", []byte(`
providers:
  - name: github
    issuer: https://github.com
    client_id: Iv1.0123456789abcdef
  - name: corp
    issuer: https://login.corp.example
    client_id: mcp-server
    isolation: in-process
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	reg, err := registry.Open(f, registry.Options{Drivers: drivers.Builtin})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()
	for _, p := range reg.Providers() {
		_, reason, _ := reg.Resolve(p.Provider.Driver, p.Issuer)
		fmt.Printf("%s: %s\n", p.Name, reason)
	}
	// Output:
	// github: github claims https://github.com (static endpoints, no discovery)
	// corp: no driver claims login.corp.example: the generic OpenID Connect / RFC 8414 driver
}
