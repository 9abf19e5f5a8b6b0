package google_test

import (
	"strings"
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
	// The plugin protocol carries no DriverConfig.ClientSecret yet, and
	// Google wants the secret on every token request: until it does, the
	// plugin driver refuses every login, which this probe checks.
	op := fakeOP(t)
	probe := drivertest.BuiltinPlugin(google.Name)(t, op)
	if _, err := probe.(provider.DeviceAuthorizer).StartDevice(logintest.Context(t), nil); err != nil {
		if !strings.Contains(err.Error(), "client_secret is required") {
			t.Fatalf("plugin StartDevice: %v", err)
		}
		t.Skip("the plugin protocol does not carry DriverConfig.ClientSecret, which Google needs: the google driver works in process only")
	}
	drivertest.Run(t, drivertest.Suite{OP: fakeOP, NewDriver: drivertest.BuiltinPlugin(google.Name)})
}
