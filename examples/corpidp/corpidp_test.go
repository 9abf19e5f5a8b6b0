package corpidp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/examples/corpidp"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
	"github.com/mcpauth/mcpauth/sdk/drivertest"
)

// buildPlugin compiles the plugin binary into dir, as its authors would ship it.
func buildPlugin(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "corpidp-driver")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/corpidp-driver")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type corpOP struct{ drivertest.OP }

func (c corpOP) DriverConfig() provider.DriverConfig {
	cfg := c.OP.DriverConfig()
	cfg.Options = map[string]string{"tenant": "engineering"}
	return cfg
}

func TestContract(t *testing.T) {
	bin := buildPlugin(t, t.TempDir())
	op := func(t *testing.T) drivertest.OP { return corpOP{drivertest.Zitadel(t)} }
	t.Run("in-process", func(t *testing.T) {
		drivertest.Run(t, drivertest.Suite{OP: op, NewDriver: drivertest.InProcess(corpidp.Factory)})
	})
	t.Run("plugin", func(t *testing.T) {
		drivertest.Run(t, drivertest.Suite{OP: op, NewDriver: drivertest.Plugin(bin)})
	})
}

// TestDeviceLoginFromConfig is the enterprise path end to end: the plugin
// binary in the plugin directory, listed by sha256 in a config file, loaded
// by the registry, completing a device login against a real OP.
func TestDeviceLoginFromConfig(t *testing.T) {
	op := zitadelop.Start(t, zitadelop.Options{})
	pluginDir := t.TempDir()
	bin := buildPlugin(t, pluginDir)
	sum, err := registry.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "config.yaml")
	yaml := `plugin_dir: ` + pluginDir + `
providers:
  - name: corp
    driver: external
    issuer: ` + op.Issuer + `
    client_id: ` + op.ClientID + `
    scopes: [openid]
    grant: device
    options: {tenant: engineering}
    plugin:
      path: corpidp-driver
      sha256: ` + sum + `
`
	os.WriteFile(cfgFile, []byte(yaml), 0o600)
	f, err := config.LoadEnv(cfgFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(f, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	p, _ := reg.Provider("corp")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	login := &login.Login{
		Preference: login.GrantPreference(p.Grant),
		Device:     login.DevicePoller{Sleep: func(ctx context.Context, d time.Duration) error { time.Sleep(d / 100); return ctx.Err() }},
		ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error {
			return op.ApproveDevice(ctx, da.UserCode)
		},
	}
	tok, err := login.Run(ctx, p.Driver, p.Scopes)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.HasScopes([]string{"openid", "offline_access"}) || tok.RefreshToken == "" {
		t.Fatalf("token %v: corpidp always asks for offline_access", tok)
	}
	desc := p.Driver.Describe()
	if desc.Name != corpidp.Name || desc.Version != corpidp.Version {
		t.Fatalf("Describe = %+v: not served by the plugin", desc)
	}
	if p.Driver.(*registry.PluginDriver).PID() == 0 {
		t.Fatal("no plugin process")
	}
}

func TestMissingTenantIsAClearError(t *testing.T) {
	_, err := corpidp.Factory(context.Background(), provider.DriverConfig{Issuer: "https://idp.corp.example", ClientID: "c"})
	if err == nil || !strings.Contains(err.Error(), "options.tenant is required") {
		t.Fatalf("err = %v", err)
	}
}

func TestTenantHeaderOnEveryRequest(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get(corpidp.TenantHeader))
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"device_code":"d","user_code":"U","verification_uri":"` + "http://" + r.Host + `/device","expires_in":60}`))
	}))
	defer srv.Close()
	meta := &provider.AuthServerMetadata{Issuer: srv.URL, TokenEndpoint: srv.URL + "/token", DeviceAuthorizationEndpoint: srv.URL + "/device"}
	d, err := corpidp.Factory(context.Background(), provider.DriverConfig{Issuer: srv.URL, ClientID: "c", Metadata: meta, Options: map[string]string{"tenant": "eng"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.(provider.DeviceAuthorizer).StartDevice(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "eng" {
		t.Fatalf("tenant headers seen = %q", got)
	}
}
