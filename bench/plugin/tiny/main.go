// Command tiny is the smallest external driver plugin: sdk/driver serving
// a driver with fixed metadata and nothing else. Its size is what the
// plugin SDK itself costs (scripts/bench).
package main

import (
	"context"

	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk/driver"
)

type static struct{ meta *provider.AuthServerMetadata }

func (s static) Describe() provider.Description {
	return provider.Description{Name: "tiny", Version: "1"}
}

func (s static) Metadata(context.Context) (*provider.AuthServerMetadata, error) { return s.meta, nil }

func main() {
	driver.Serve(func(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
		return static{cfg.Metadata}, nil
	})
}
