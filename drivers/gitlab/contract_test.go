package gitlab_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/gitlab"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

// contractOP is the GitLab fake behind the contract kit's OP interface,
// configured as a config file names a self-managed instance.
type contractOP struct {
	logintest.User
	f *fakeGitLab
}

func (o contractOP) DriverConfig() provider.DriverConfig {
	return provider.DriverConfig{Issuer: o.f.URL, ClientID: o.f.clientID, Scopes: []string{"read_api", "openid"}}
}

func fakeOP(t *testing.T) drivertest.OP {
	f := newFakeGitLab(t, nil)
	return contractOP{logintest.User{Devices: f.devices}, f}
}

func TestContractInProcess(t *testing.T) {
	drivertest.Run(t, drivertest.Suite{OP: fakeOP, NewDriver: drivertest.InProcess(gitlab.Registration.New)})
}

// TestContractPlugin runs the driver as hosts run built-in drivers: the
// test binary re-executed in driver mode.
func TestContractPlugin(t *testing.T) {
	if _, ok := drivers.Lookup(gitlab.Name); !ok {
		t.Fatal("the gitlab driver is not in drivers.Builtin")
	}
	drivertest.Run(t, drivertest.Suite{OP: fakeOP, NewDriver: drivertest.BuiltinPlugin(gitlab.Name)})
}
