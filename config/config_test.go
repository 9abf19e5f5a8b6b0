package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/suggest"
	"github.com/mcpauth/mcpauth/provider"
)

func TestExampleIsValid(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	f, err := Parse("example.yaml", Example)
	if err != nil {
		t.Fatalf("the example does not validate:\n%v", err)
	}
	want := &File{
		set:          setKeys("mode", "login_timeout", "plugin_dir", "store"),
		Mode:         ModeLazy,
		LoginTimeout: 5 * time.Minute,
		Store:        StoreMemory,
		OpenBrowser:  true,
		PluginDir:    filepath.Join(home, ".config", "mcpauth", "plugins"),
		Providers: []Provider{{
			Name:      "github",
			Issuer:    "https://github.com",
			ClientID:  "Iv1.0123456789abcdef",
			Scopes:    []string{"repo", "read:org"},
			Grant:     GrantAuto,
			Isolation: IsolationSubprocess,
			Store:     StoreMemory,
		}},
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("Parse(example) =\n%+v\nwant\n%+v", f, want)
	}
}

// The commented-out entries of the example must be valid too, once
// uncommented.
func TestExampleCommentedEntriesAreValid(t *testing.T) {
	f, err := Parse("example.yaml", []byte(uncommentedExample()))
	if err != nil {
		t.Fatalf("the uncommented example does not validate:\n%v", err)
	}
	var names []string
	for _, p := range f.Providers {
		names = append(names, p.Name)
	}
	if got, want := strings.Join(names, ","), "github,example-api,okta,auth0,dev,corp"; got != want {
		t.Errorf("providers %s, want %s", got, want)
	}
}

// uncommentedExample is the example with its commented-out entries.
func uncommentedExample() string {
	var lines []string
	for _, l := range strings.Split(string(Example), "\n") {
		if s, ok := strings.CutPrefix(l, "  # "); ok && (strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "  ")) {
			l = "  " + s
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

func TestFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("testdata/full.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	want := &File{
		set:          setKeys("mode", "login_timeout", "plugin_dir"),
		Mode:         ModeExplicit,
		LoginTimeout: 90 * time.Minute,
		Store:        StoreMemory,
		OpenBrowser:  true,
		PluginDir:    "/opt/mcpauth/plugins",
		Providers: []Provider{{
			Name:              "github",
			DisplayName:       "GitHub Enterprise",
			Driver:            DriverGitHub,
			Issuer:            "https://github.com",
			ClientID:          "Iv1.0123456789abcdef",
			ClientSecret:      "not-a-real-secret",
			Scopes:            []string{"repo", "read:org"},
			APIs:              []string{"https://api.github.com", "http://127.0.0.1:8080/api/v3/"},
			Grant:             GrantDevice,
			LoopbackHost:      LoopbackIPv6,
			LoopbackPort:      8765,
			VerificationHosts: []string{"github.com", "github.example.com:8443", "[::1]:9000", "10.0.0.7"},
			Isolation:         IsolationInProcess,
			Store:             StoreMemory,
			Options:           map[string]string{"enterprise_host": "github.example.com"},
			Endpoints: provider.Endpoints{
				Authorization:       "/login/oauth/authorize",
				Token:               "https://github.com/login/oauth/access_token?client=mcp",
				DeviceAuthorization: "/login/device/code",
				Revocation:          "http://localhost:9999/revoke",
				Userinfo:            "https://api.github.com/user",
			},
			ExtraParams: map[string]string{"audience": "https://api.github.com", "prompt": "select_account"},
		}, {
			Name:                     "example-api",
			Resource:                 "https://api.example.com/v1",
			ClientIDMetadataDocument: "https://app.example.com/oauth/client.json",
			Grant:                    GrantPKCE,
			Isolation:                IsolationSubprocess,
			Store:                    StoreMemory,
		}, {
			Name:      "corp_idp",
			Driver:    DriverExternal,
			Issuer:    "http://127.0.0.1:8080/tenant",
			ClientID:  "mcp",
			Grant:     GrantAuto,
			Isolation: IsolationSubprocess,
			Store:     StoreMemory,
			Plugin: &Plugin{
				Path:   "corp/corp-idp-driver",
				SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				Env:    []string{"CORP_IDP_REGION", "HTTPS_PROXY"},
			},
			Options: map[string]string{},
		}},
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("Parse(full.yaml) =\n%+v\nwant\n%+v", f, want)
	}
}

// setKeys is File.set with these keys.
func setKeys(keys ...string) map[string]bool {
	m := make(map[string]bool)
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func TestEmptyAndDefaults(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	for _, data := range []string{"", "# only a comment\n", "---\n", "providers: []\n"} {
		f, err := Parse("c.yaml", []byte(data))
		if err != nil {
			t.Fatalf("Parse(%q): %v", data, err)
		}
		want := &File{Mode: ModeLazy, LoginTimeout: 5 * time.Minute, PluginDir: "/xdg/mcpauth/plugins", Store: StoreMemory, OpenBrowser: true, Providers: f.Providers}
		if !reflect.DeepEqual(f, want) || len(f.Providers) != 0 {
			t.Errorf("Parse(%q) = %+v, want %+v", data, f, want)
		}
	}
}

func TestPluginDir(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	for _, tt := range []struct{ file, dir, want string }{
		{"/etc/mcpauth/config.yaml", "~/plugins", "/home/u/plugins"},
		{"/etc/mcpauth/config.yaml", `"~"`, "/home/u"},
		{"/etc/mcpauth/config.yaml", "plugins", "/etc/mcpauth/plugins"},
		{"/etc/mcpauth/config.yaml", "/opt/p/", "/opt/p"},
		{"/etc/mcpauth/config.yaml", "~other/p", "/etc/mcpauth/~other/p"},
	} {
		f, err := Parse(tt.file, []byte("plugin_dir: "+tt.dir+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if f.PluginDir != tt.want {
			t.Errorf("plugin_dir %s in %s: PluginDir %s, want %s", tt.dir, tt.file, f.PluginDir, tt.want)
		}
	}
}

func TestLoopbackHTTPAllowed(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:9999", "http://localhost:8080/tenant", "http://[::1]:1234/", "http://127.0.0.2"} {
		data := "providers:\n  - name: dev\n    issuer: " + u + "\n    client_id: c\n"
		if _, err := Parse("c.yaml", []byte(data)); err != nil {
			t.Errorf("issuer %s: %v", u, err)
		}
		data = "providers:\n  - name: dev\n    resource: " + u + "\n    client_id: c\n"
		if _, err := Parse("c.yaml", []byte(data)); err != nil {
			t.Errorf("resource %s: %v", u, err)
		}
	}
}

func TestValidationErrorListsEveryProblem(t *testing.T) {
	data := `mode: lazzy
providers:
  - name: a
    issuer: http://example.com
    client_id: x
  - name: a
    issuer: https://example.com
    grant: pcke
`
	_, err := Parse("c.yaml", []byte(data))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v (%T), want a *ValidationError", err, err)
	}
	want := []Problem{
		{File: "c.yaml", Line: 1, Field: "mode", Message: `"lazzy" is not valid; did you mean "lazy"?`},
		{File: "c.yaml", Line: 4, Field: "providers[0].issuer", Message: `"http://example.com" must use https (http is allowed only on loopback: 127.0.0.1, [::1], localhost)`},
		{File: "c.yaml", Line: 6, Field: "providers[1].client_id", Message: `required (or client_id_metadata_document)`},
		{File: "c.yaml", Line: 6, Field: "providers[1].name", Message: `"a" is already the name of providers[0] (line 3); names must be unique`},
		{File: "c.yaml", Line: 8, Field: "providers[1].grant", Message: `"pcke" is not valid; did you mean "pkce"?`},
	}
	if !reflect.DeepEqual(ve.Problems, want) {
		t.Errorf("problems:\n%v\nwant:\n%v", err, &ValidationError{Problems: want})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("mode: explicit\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LoadEnv(path, []string{"MCPAUTH_LOGIN_TIMEOUT=2m"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Mode != ModeExplicit || f.LoginTimeout != 2*time.Minute {
		t.Errorf("LoadEnv: %+v", f)
	}
	if _, err := LoadEnv(filepath.Join(dir, "missing.yaml"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	f, err = LoadEnv("", []string{"MCPAUTH_MODE=explicit"})
	if err != nil || f.Mode != ModeExplicit {
		t.Errorf(`LoadEnv("") = %+v, %v`, f, err)
	}
}

func TestFind(t *testing.T) {
	cfgHome := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfgHome)
	t.Setenv("MCPAUTH_CONFIG", "")
	def := filepath.Join(cfgHome, "mcpauth", "config.yaml")

	path, src, err := Find("")
	if path != def || src != SourceDefault || !errors.Is(err, ErrNotFound) {
		t.Errorf("no file: Find = %q, %q, %v; want %q, default, ErrNotFound", path, src, err, def)
	}
	if err := os.MkdirAll(filepath.Dir(def), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(def, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if path, src, err := Find(""); path != def || src != SourceDefault || err != nil {
		t.Errorf("default file: Find = %q, %q, %v", path, src, err)
	}
	t.Setenv("MCPAUTH_CONFIG", "/from/env.yaml")
	if path, src, err := Find(""); path != "/from/env.yaml" || src != SourceEnv || err != nil {
		t.Errorf("MCPAUTH_CONFIG: Find = %q, %q, %v", path, src, err)
	}
	if path, src, err := Find("/from/flag.yaml"); path != "/from/flag.yaml" || src != SourceFlag || err != nil {
		t.Errorf("flag: Find = %q, %q, %v", path, src, err)
	}
}

func TestClosest(t *testing.T) {
	for _, tt := range []struct {
		in   string
		from []string
		want string
	}{
		{"devise", grants, "device"},
		{"pcke", grants, "pkce"},
		{"Device", grants, "device"},
		{"browser", grants, ""},
		{"x", grants, ""},
		{"clientId", providerKeys, "client_id"},
		{"client-id", providerKeys, "client_id"},
		{"scope", providerKeys, "scopes"},
		{"inprocess", isolations, "in-process"},
		{"githib", builtinDrivers, "github"},
		{"gitlab", builtinDrivers, ""},
		{"okat", builtinDrivers, "okta"},
	} {
		if got := suggest.Closest(tt.in, tt.from); got != tt.want {
			t.Errorf("suggest.Closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
