package slack_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/slack"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

// contractOP is the Slack fake behind the contract kit's OP interface.
// Slack has no device grant: the User has no Devices, and the kit skips
// those parts.
type contractOP struct {
	logintest.User
	f *fakeSlack
}

func (o contractOP) DriverConfig() provider.DriverConfig {
	return provider.DriverConfig{Issuer: o.f.URL, ClientID: o.f.clientID, Scopes: []string{"chat:write", "channels:history"}}
}

// The kit's loopback listener is on 127.0.0.1 at a port it picks, whatever
// the driver's LoopbackHost and LoopbackPortFixed say, so its fake accepts
// any loopback port; TestRedirectURIExactMatch covers Slack's exact match.
func fakeOP(t *testing.T) drivertest.OP {
	return contractOP{f: newFakeSlack(t, func(f *fakeSlack) { f.anyLoopback = true })}
}

func TestContractInProcess(t *testing.T) {
	drivertest.Run(t, drivertest.Suite{OP: fakeOP, NewDriver: drivertest.InProcess(slack.Registration.New)})
}

func TestContractPlugin(t *testing.T) {
	if _, ok := drivers.Lookup(slack.Name); !ok {
		t.Skip("the slack driver is not registered among the registry's built-in drivers yet")
	}
	drivertest.Run(t, drivertest.Suite{OP: fakeOP, NewDriver: drivertest.BuiltinPlugin(slack.Name)})
}
