package github_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/github"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

// contractOP is the GitHub fake behind the contract kit's OP interface.
type contractOP struct {
	logintest.User
	f *fakeGitHub
}

func (o contractOP) DriverConfig() provider.DriverConfig {
	return provider.DriverConfig{Issuer: o.f.URL, ClientID: o.f.clientID, ClientSecret: o.f.secret, Scopes: []string{"repo", "read:org"}}
}

func fakeOP(configure func(*fakeGitHub)) func(t *testing.T) drivertest.OP {
	return func(t *testing.T) drivertest.OP {
		f := newFakeGitHub(t, configure)
		return contractOP{logintest.User{Devices: f.devices}, f}
	}
}

// The contract runs against an OAuth App. A GitHub App's user tokens carry
// no scopes at all (scope is empty: the app's permissions apply), which the
// kit's token check does not allow; TestPKCELogin covers GitHub Apps.
func TestContractInProcess(t *testing.T) {
	drivertest.Run(t, drivertest.Suite{OP: fakeOP(nil), NewDriver: drivertest.InProcess(github.Registration.New)})
}

// TestContractPlugin runs the driver as hosts run built-in drivers: the
// test binary re-executed in driver mode. The plugin protocol carries no
// client secret, so the plugin's driver offers the device grant only (GitHub's
// code exchange needs the secret) and the kit skips PKCE there.
func TestContractPlugin(t *testing.T) {
	if _, ok := drivers.Lookup(github.Name); !ok {
		t.Skip("the github driver is not registered among the registry's built-in drivers yet")
	}
	drivertest.Run(t, drivertest.Suite{OP: fakeOP(nil), NewDriver: drivertest.BuiltinPlugin(github.Name)})
}
