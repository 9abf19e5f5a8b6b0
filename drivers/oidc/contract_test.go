package oidc_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/registry"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

func TestContractInProcess(t *testing.T) {
	f, _ := registry.BuiltinFactory("oidc")
	drivertest.Run(t, drivertest.Suite{NewDriver: drivertest.InProcess(f)})
}

// The same driver as a plugin subprocess: the test binary re-executes itself
// in driver mode, as hosts run built-in drivers.
func TestContractPlugin(t *testing.T) {
	drivertest.Run(t, drivertest.Suite{NewDriver: drivertest.BuiltinPlugin("oidc")})
}
