package slack_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/slack"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

// contractOP is the Slack fake behind the contract kit's OP interface.
// Slack has no device grant; the kit skips those parts.
type contractOP struct{ f *fakeSlack }

func (o contractOP) DriverConfig() provider.DriverConfig {
	return provider.DriverConfig{Issuer: o.f.URL, ClientID: o.f.clientID, Scopes: []string{"chat:write", "channels:history"}}
}

var errNoDevice = errors.New("fake Slack: there is no device grant")

func (o contractOP) ApproveDevice(context.Context, string) error { return errNoDevice }
func (o contractOP) DenyDevice(context.Context, string) error    { return errNoDevice }

func (o contractOP) Browse(ctx context.Context, authURL string) error { return browse(ctx, authURL) }

func fakeOP(t *testing.T) drivertest.OP { return contractOP{newFakeSlack(t, nil)} }

func TestContractInProcess(t *testing.T) {
	drivertest.Run(t, drivertest.Suite{OP: fakeOP, NewDriver: drivertest.InProcess(slack.Factory)})
}

func TestContractPlugin(t *testing.T) {
	if _, ok := registry.BuiltinFactory(slack.Name); !ok {
		t.Skip("the slack driver is not registered among the registry's built-in drivers yet")
	}
	drivertest.Run(t, drivertest.Suite{OP: fakeOP, NewDriver: drivertest.BuiltinPlugin(slack.Name)})
}
