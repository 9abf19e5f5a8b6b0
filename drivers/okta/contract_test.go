package okta_test

import (
	"context"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

// contractOP is the Okta fake behind the contract kit's OP interface,
// configured the way a config file would name an Okta custom server.
type contractOP struct {
	f       *fakeOkta
	options map[string]string
}

func (o contractOP) DriverConfig() provider.DriverConfig {
	return provider.DriverConfig{Issuer: o.f.orgIssuer(), ClientID: o.f.clientID, Scopes: []string{"openid", "profile"}, Options: o.options}
}

func (o contractOP) ApproveDevice(_ context.Context, userCode string) error {
	return o.f.setDevice(userCode, func(d *device) { d.approved = true })
}

func (o contractOP) DenyDevice(_ context.Context, userCode string) error {
	return o.f.setDevice(userCode, func(d *device) { d.denied = true })
}

func (o contractOP) Browse(ctx context.Context, authURL string) error { return browse(ctx, authURL) }

func fakeOP(configure func(*fakeOkta), options map[string]string) func(t *testing.T) drivertest.OP {
	return func(t *testing.T) drivertest.OP { return contractOP{newFakeOkta(t, configure), options} }
}

func TestContractInProcess(t *testing.T) {
	custom := map[string]string{"authorization_server_id": "default"}
	t.Run("custom server", func(t *testing.T) {
		drivertest.Run(t, drivertest.Suite{OP: fakeOP(nil, custom), NewDriver: drivertest.InProcess(okta.Factory)})
	})
	t.Run("org server, DPoP required", func(t *testing.T) {
		drivertest.Run(t, drivertest.Suite{OP: fakeOP(func(f *fakeOkta) { f.requireDPoP = true }, nil), NewDriver: drivertest.InProcess(okta.Factory)})
	})
}

func TestContractPlugin(t *testing.T) {
	if _, ok := registry.BuiltinFactory(okta.Name); !ok {
		t.Skip("the okta driver is not registered among the registry's built-in drivers yet")
	}
	drivertest.Run(t, drivertest.Suite{OP: fakeOP(nil, map[string]string{"authorization_server_id": "default"}), NewDriver: drivertest.BuiltinPlugin(okta.Name)})
}
