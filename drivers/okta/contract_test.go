package okta_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

// contractOP is the Okta fake behind the contract kit's OP interface,
// configured the way a config file would name an Okta custom server.
type contractOP struct {
	logintest.User
	f       *fakeOkta
	options map[string]string
}

func (o contractOP) DriverConfig() provider.DriverConfig {
	return provider.DriverConfig{Issuer: o.f.orgIssuer(), ClientID: o.f.clientID, Scopes: []string{"openid", "profile"}, Options: o.options}
}

func fakeOP(configure func(*fakeOkta), options map[string]string) func(t *testing.T) drivertest.OP {
	return func(t *testing.T) drivertest.OP {
		// The kit listens on a port it picks, whatever LoopbackPortFixed
		// says; TestRedirectURIExactMatch covers Okta's exact match.
		f := newFakeOkta(t, func(f *fakeOkta) {
			f.anyLoopback = true
			if configure != nil {
				configure(f)
			}
		})
		return contractOP{logintest.User{Devices: f.devices}, f, options}
	}
}

func TestContractInProcess(t *testing.T) {
	custom := map[string]string{"authorization_server_id": "default"}
	t.Run("custom server", func(t *testing.T) {
		drivertest.Run(t, drivertest.Suite{OP: fakeOP(nil, custom), NewDriver: drivertest.InProcess(okta.Registration.New)})
	})
	t.Run("org server, DPoP required", func(t *testing.T) {
		drivertest.Run(t, drivertest.Suite{OP: fakeOP(func(f *fakeOkta) { f.requireDPoP = true }, nil), NewDriver: drivertest.InProcess(okta.Registration.New)})
	})
}

func TestContractPlugin(t *testing.T) {
	if _, ok := drivers.Lookup(okta.Name); !ok {
		t.Skip("the okta driver is not registered among the registry's built-in drivers yet")
	}
	drivertest.Run(t, drivertest.Suite{OP: fakeOP(nil, map[string]string{"authorization_server_id": "default"}), NewDriver: drivertest.BuiltinPlugin(okta.Name)})
}
