package entra_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/entra"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

// contractOP is the Entra fake behind the contract kit's OP interface,
// configured for the multi-tenant issuer, whose template discovery is the
// driver's main quirk.
type contractOP struct {
	logintest.User
	f      *fakeEntra
	tenant string
}

func (o contractOP) DriverConfig() provider.DriverConfig {
	return provider.DriverConfig{Issuer: o.f.issuer(o.tenant), ClientID: o.f.clientID}
}

func fakeOP(tenant string) func(t *testing.T) drivertest.OP {
	return func(t *testing.T) drivertest.OP {
		f := newFakeEntra(t, nil)
		return contractOP{logintest.User{Devices: f.devices}, f, tenant}
	}
}

func TestContractInProcess(t *testing.T) {
	for _, tenant := range []string{"common", "contoso.onmicrosoft.com"} {
		t.Run(tenant, func(t *testing.T) {
			drivertest.Run(t, drivertest.Suite{OP: fakeOP(tenant), NewDriver: drivertest.InProcess(entra.Registration.New)})
		})
	}
}

func TestContractPlugin(t *testing.T) {
	if _, ok := drivers.Lookup(entra.Name); !ok {
		t.Fatal("the entra driver is not in drivers.Builtin")
	}
	drivertest.Run(t, drivertest.Suite{OP: fakeOP("organizations"), NewDriver: drivertest.BuiltinPlugin(entra.Name)})
}
