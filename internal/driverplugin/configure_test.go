package driverplugin

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-plugin"
	pb "github.com/mcpauth/mcpauth/internal/driverpb"

	"github.com/mcpauth/mcpauth/provider"
)

// describedDriver reports the DriverConfig it was built from.
type describedDriver struct {
	fakeDriver
	cfg provider.DriverConfig
}

func (d *describedDriver) Describe() provider.Description {
	return provider.Description{Name: "described", ClientID: d.cfg.ClientID,
		APIs: []string{"https://api.example/v1"}, VerificationHosts: []string{"www.example"},
		LoopbackHost: "localhost", LoopbackPortFixed: true}
}

// TestConfigureCarriesEverything: a driver running as a plugin gets the
// client secret, endpoint overrides and extra parameters (before minor 2
// they were dropped, and Google's or GitHub's code exchange failed in a
// plugin), and the host sees the driver's API origins and loopback rules.
func TestConfigureCarriesEverything(t *testing.T) {
	configured := make(chan provider.DriverConfig, 1)
	srv := NewServer(func(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
		configured <- cfg
		return &describedDriver{cfg: cfg}, nil
	})
	c := servedBy(t, srv, provider.DriverConfig{Issuer: "https://as.example", ClientID: "c", ClientSecret: "not-really-secret",
		Endpoints:   provider.Endpoints{Token: "/oauth/token2", Revocation: "https://as.example/revoke"},
		ExtraParams: map[string]string{"audience": "https://api.example"}})
	got := <-configured
	if got.ClientSecret != "not-really-secret" || got.Endpoints.Token != "/oauth/token2" || got.Endpoints.Revocation != "https://as.example/revoke" ||
		got.ExtraParams["audience"] != "https://api.example" {
		t.Errorf("the plugin's driver was configured with %+v", got)
	}
	d := c.Describe()
	if !slices.Equal(d.APIs, []string{"https://api.example/v1"}) || !slices.Equal(d.VerificationHosts, []string{"www.example"}) ||
		d.LoopbackHost != "localhost" || !d.LoopbackPortFixed {
		t.Errorf("description over the wire = %+v", d)
	}
}

// TestConfigureRefusesOldPluginForNewFields: a plugin older than minor 2
// would drop the secret silently; the host refuses it at start, saying why.
func TestConfigureRefusesOldPluginForNewFields(t *testing.T) {
	connect := func(cfg provider.DriverConfig) error {
		old := &oldPlugin{Server: NewServer(factoryOf(&fakeDriver{name: "old"}))}
		client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginName: &testPlugin{srv: old}})
		defer client.Close()
		defer server.Stop() // before Close: see servedBy
		raw, err := client.Dispense(PluginName)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Connect(context.Background(), raw.(pb.DriverClient), cfg, ConnectOptions{})
		return err
	}
	if err := connect(provider.DriverConfig{Issuer: "https://as.example", ClientID: "c", ClientSecret: "s"}); err == nil || !strings.Contains(err.Error(), "cannot carry client_secret") {
		t.Fatalf("err = %v", err)
	}
	if err := connect(provider.DriverConfig{Issuer: "https://as.example", ClientID: "c"}); err != nil {
		t.Fatalf("without the new fields an old plugin still works: %v", err)
	}
}
