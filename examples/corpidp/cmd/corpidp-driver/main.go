// Command corpidp-driver is the Corp IdP driver as an mcpauth plugin binary.
// Build it, hash it (mcpauth plugin hash corpidp-driver), put it in the
// plugin directory and list it in the config file.
package main

import (
	"github.com/mcpauth/mcpauth/examples/corpidp"
	"github.com/mcpauth/mcpauth/sdk/driver"
)

func main() {
	driver.Serve(corpidp.Factory)
}
