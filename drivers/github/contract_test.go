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

// withSecret: GitHub's code exchange needs the client secret, so the
// contract (PKCE included) runs with one.
func withSecret(f *fakeGitHub) { f.secret = "s3cret" }

// The contract runs against an OAuth App. A GitHub App's user tokens carry
// no scopes at all (scope is empty: the app's permissions apply), which the
// kit's token check does not allow; TestPKCELogin covers GitHub Apps.
func TestContractInProcess(t *testing.T) {
	drivertest.Run(t, drivertest.Suite{OP: fakeOP(withSecret), NewDriver: drivertest.InProcess(github.Registration.New)})
}

// TestContractPlugin runs the driver as hosts run built-in drivers: the
// test binary re-executed in driver mode. The client secret reaches the
// plugin in Configure (protocol minor 2), so PKCE runs there too.
func TestContractPlugin(t *testing.T) {
	if _, ok := drivers.Lookup(github.Name); !ok {
		t.Fatal("the github driver is not in drivers.Builtin")
	}
	drivertest.Run(t, drivertest.Suite{OP: fakeOP(withSecret), NewDriver: drivertest.BuiltinPlugin(github.Name)})
}
