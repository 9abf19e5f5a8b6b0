package oidc_test

import (
	"testing"

	_ "github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

func TestContractInProcess(t *testing.T) {
	drivertest.Run(t, drivertest.Suite{NewDriver: drivertest.InProcess(oidc.Registration.New)})
}

// The same driver as a plugin subprocess (the drivers catalogue, linked by
// this test, serves it in driver mode): the test binary re-executes itself
// in driver mode, as hosts run built-in drivers.
func TestContractPlugin(t *testing.T) {
	drivertest.Run(t, drivertest.Suite{NewDriver: drivertest.BuiltinPlugin("oidc")})
}
