package google_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/google"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

// contractOP is the Google fake behind the contract kit's OP interface,
// configured with the client secret Google wants.
type contractOP struct {
	logintest.User
	f *fakeGoogle
}

func (o contractOP) DriverConfig() provider.DriverConfig {
	return provider.DriverConfig{Issuer: o.f.URL, ClientID: o.f.clientID, ClientSecret: o.f.secret}
}

func fakeOP(t *testing.T) drivertest.OP {
	f := newFakeGoogle(t, nil)
	return contractOP{logintest.User{Devices: f.devices}, f}
}

func TestContractInProcess(t *testing.T) {
	drivertest.Run(t, drivertest.Suite{OP: fakeOP, NewDriver: drivertest.InProcess(google.Registration.New)})
}

func TestContractPlugin(t *testing.T) {
	if _, ok := drivers.Lookup(google.Name); !ok {
		t.Fatal("the google driver is not in drivers.Builtin")
	}
	// Google wants the client secret on every token request: the plugin
	// protocol carries it (minor 2) in Configure, over mTLS.
	drivertest.Run(t, drivertest.Suite{OP: fakeOP, NewDriver: drivertest.BuiltinPlugin(google.Name)})
}
