package registry

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

func parseConfig(t *testing.T, yaml string) *config.File {
	t.Helper()
	f, err := config.ParseEnv("test.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return f
}

func TestResolveDriver(t *testing.T) {
	tests := []struct {
		explicit, issuer, want string
	}{
		{"", "https://login.example.com", "oidc"},
		{"", "https://github.com", "github"},
		{"", "https://slack.com", "slack"},
		{"", "https://acme.okta.com", "okta"},
		{"", "https://acme.okta.com/oauth2/default", "okta"},
		{"", "https://acme.oktapreview.com", "okta"},
		{"", "https://acme.okta-emea.com", "okta"},
		{"", "https://okta.com.evil.example", "oidc"},
		{"", "https://github.example.com", "oidc"},
		{"oidc", "https://github.com", "oidc"},
		{"okta", "https://login.example.com", "okta"},
	}
	for _, tt := range tests {
		reg, reason, err := Resolve(drivers.Builtin, tt.explicit, tt.issuer)
		if err != nil || reg.Name != tt.want || reason == "" {
			t.Errorf("Resolve(%q, %q) = %q (%s), %v; want %q", tt.explicit, tt.issuer, reg.Name, reason, err, tt.want)
		}
	}
}

func TestOpenStartsNothing(t *testing.T) {
	// An issuer nobody listens on: Open must not touch it.
	f := parseConfig(t, `
providers:
  - name: corp
    issuer: http://127.0.0.1:1
    client_id: c
  - name: api
    resource: http://127.0.0.1:1/api
    client_id: c
`)
	r, err := Open(f, Options{Drivers: drivers.Builtin})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Providers()) != 2 {
		t.Fatalf("providers = %v", r.Providers())
	}
	p, _ := r.Provider("corp")
	if pd, ok := p.Driver.(*PluginDriver); !ok || pd.PID() != 0 {
		t.Fatalf("corp driver = %T, pid %v; want a plugin that has not started", p.Driver, pd)
	}
	if p.Grant != config.GrantAuto {
		t.Errorf("grant = %q", p.Grant)
	}
}

func TestOpenLoginInProcessAndSubprocess(t *testing.T) {
	op := zitadelop.Start(t, zitadelop.Options{})
	for _, isolation := range []string{"in-process", "subprocess"} {
		t.Run(isolation, func(t *testing.T) {
			f := parseConfig(t, `
providers:
  - name: dev
    issuer: `+op.Issuer+`
    client_id: `+op.ClientID+`
    scopes: [openid, offline_access]
    grant: device
    isolation: `+isolation+`
`)
			r, err := Open(f, Options{Drivers: drivers.Builtin})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			p, _ := r.Provider("dev")
			_, isPlugin := p.Driver.(*PluginDriver)
			if isPlugin != (isolation == "subprocess") {
				t.Fatalf("driver %T for isolation %s", p.Driver, isolation)
			}
			login := &login.Login{
				Preference: login.GrantPreference(p.Grant),
				Device:     login.DevicePoller{Sleep: func(ctx context.Context, d time.Duration) error { time.Sleep(d / 100); return ctx.Err() }},
				ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error {
					return op.ApproveDevice(ctx, da.UserCode)
				},
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			tok, err := login.Run(ctx, p.Driver, p.Scopes)
			if err != nil || tok.AccessToken == "" || !tok.HasScopes([]string{"openid", "offline_access"}) {
				t.Fatalf("login: %v, %v", tok, err)
			}
			if isPlugin && p.Driver.(*PluginDriver).PID() == 0 {
				t.Fatal("no plugin process ran the login")
			}
		})
	}
}

func TestOpenRefusesPluginOutsideDirectory(t *testing.T) {
	pluginDir := t.TempDir()
	outside := t.TempDir()
	target := filepath.Join(outside, "evil-driver")
	os.WriteFile(target, []byte("#!/bin/sh\n"), 0o755)
	sum, _ := fileSHA256(target)
	if err := os.Symlink(target, filepath.Join(pluginDir, "corp-driver")); err != nil {
		t.Fatal(err)
	}
	f := parseConfig(t, `
plugin_dir: `+pluginDir+`
providers:
  - name: corp
    driver: external
    issuer: https://idp.corp.example
    client_id: c
    plugin:
      path: corp-driver
      sha256: `+sum+`
`)
	_, err := Open(f, Options{Drivers: drivers.Builtin})
	if !errors.Is(err, config.ErrOutsidePluginDir) || !strings.Contains(err.Error(), `provider "corp"`) {
		t.Fatalf("err = %v, want ErrOutsidePluginDir naming the provider", err)
	}
}

func TestCloseKillsPlugins(t *testing.T) {
	f := parseConfig(t, `
providers:
  - name: a
    issuer: http://127.0.0.1:1
    client_id: c
  - name: b
    issuer: http://127.0.0.1:2
    client_id: c
`)
	r, err := Open(f, Options{Drivers: drivers.Builtin})
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range r.Providers() {
		pd := p.Driver.(*PluginDriver)
		if err := pd.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pd.PID())
	}
	r.Close()
	for _, pid := range pids {
		gone := false
		for range 200 { // bounded: up to 10 s
			if !alive(pid) {
				gone = true
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !gone {
			t.Errorf("plugin %d still running after Close", pid)
		}
	}
	if _, err := r.Providers()[0].Driver.Metadata(context.Background()); err == nil {
		t.Error("a driver still works after Close")
	}
}

func TestBuiltinsRefuseUnknownOptions(t *testing.T) {
	for _, reg := range drivers.Builtin {
		name := reg.Name
		_, err := reg.New(context.Background(), provider.DriverConfig{Issuer: "https://login.example.com", ClientID: "c",
			Options: map[string]string{"no_such_option": "x"},
			Discover: func(context.Context, string) (*provider.AuthServerMetadata, error) {
				return nil, errors.New("not used")
			}})
		if err == nil || !strings.Contains(err.Error(), `unknown option "no_such_option"`) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
