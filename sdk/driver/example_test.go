package driver_test

import (
	"context"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk/driver"
)

// corpIdP is an in-house identity provider: the generic driver with one
// quirk, its device endpoint at a path of its own.
type corpIdP struct{ *oidc.Driver }

// A driver plugin's main: Serve never returns. The binary links the
// contract, the generic driver and the serve glue — no built-in issuer
// driver and no registry.
func ExampleServe() {
	driver.Serve(func(ctx context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
		cfg.Endpoints.DeviceAuthorization = "/oauth2/device/authorize"
		base, err := oidc.Registration.New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return corpIdP{base.(*oidc.Driver)}, nil
	})
}
