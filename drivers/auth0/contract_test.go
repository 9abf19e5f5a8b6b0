package auth0_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/auth0"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

// contractOP is the Auth0 fake behind the contract kit's OP interface,
// configured as a config file names a tenant on a custom domain, with the
// audience option.
type contractOP struct {
	logintest.User
	f *fakeAuth0
}

func (o contractOP) DriverConfig() provider.DriverConfig {
	return provider.DriverConfig{Issuer: o.f.issuer(), ClientID: o.f.clientID, Scopes: []string{"openid", "profile"},
		Options: map[string]string{"audience": testAPI}}
}

func fakeOP(t *testing.T) drivertest.OP {
	f := newFakeAuth0(t, nil)
	return contractOP{logintest.User{Devices: f.devices}, f}
}

func TestContractInProcess(t *testing.T) {
	drivertest.Run(t, drivertest.Suite{OP: fakeOP, NewDriver: drivertest.InProcess(auth0.Registration.New)})
}

func TestContractPlugin(t *testing.T) {
	if _, ok := drivers.Lookup(auth0.Name); !ok {
		t.Fatal("the auth0 driver is not in drivers.Builtin")
	}
	drivertest.Run(t, drivertest.Suite{OP: fakeOP, NewDriver: drivertest.BuiltinPlugin(auth0.Name)})
}
