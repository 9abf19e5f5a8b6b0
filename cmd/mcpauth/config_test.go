package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/registry"
)

// isolateConfig points the default config location and $MCPAUTH_CONFIG away
// from the user's, and clears MCPAUTH_* overrides.
func isolateConfig(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("HOME", home)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "MCPAUTH_") && k != "MCPAUTH_SKIP_NPM_OP" {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	return home
}

func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	code := run(context.Background(), args, &stderr)
	return code, stderr.String()
}

func writeFile(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigValidate(t *testing.T) {
	home := isolateConfig(t)
	pluginDir := filepath.Join(home, "plugins")
	plugin := writeFile(t, filepath.Join(pluginDir, "corp-driver"), "#!/bin/sh\n")
	sum, err := registry.FileSHA256(plugin)
	if err != nil {
		t.Fatal(err)
	}
	good := `plugin_dir: ` + pluginDir + `
providers:
  - name: github
    issuer: https://github.com
    client_id: Iv1.abc
  - name: corp
    driver: external
    issuer: https://login.corp.example
    client_id: mcp
    plugin: {path: corp-driver, sha256: ` + sum + `}
`
	goodPath := writeFile(t, filepath.Join(home, "good.yaml"), good)

	code, out := runCLI(t, "config", "validate", "--config", goodPath)
	if code != 0 {
		t.Fatalf("valid file: exit %d\n%s", code, out)
	}
	for _, want := range []string{"Config file " + goodPath + " (from --config)", "Valid.", "github ", "corp-driver: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("valid file: output lacks %q:\n%s", want, out)
		}
	}

	t.Run("problems", func(t *testing.T) {
		bad := writeFile(t, filepath.Join(home, "bad.yaml"), "mode: lazzy\nproviders:\n  - name: gh\n    issuer: http://github.com\n    client_id: x\n")
		code, out := runCLI(t, "config", "validate", "--config", bad)
		want := bad + `:1: mode: "lazzy" is not valid; did you mean "lazy"?
` + bad + `:4: providers[0].issuer: "http://github.com" must use https (http is allowed only on loopback: 127.0.0.1, [::1], localhost)
mcpauth config: 2 problems
`
		if code != 1 || !strings.HasSuffix(out, want) {
			t.Errorf("exit %d, output:\n%s\nwant it to end with:\n%s", code, out, want)
		}
	})

	t.Run("plugin mismatch", func(t *testing.T) {
		writeFile(t, plugin, "#!/bin/sh\necho changed\n")
		t.Cleanup(func() { writeFile(t, plugin, "#!/bin/sh\n") })
		code, out := runCLI(t, "config", "validate", "--config", goodPath)
		if code != 1 || !strings.Contains(out, `provider "corp": plugin `) || !strings.Contains(out, "MISMATCH") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})

	t.Run("driver options", func(t *testing.T) {
		// config validate answered "Valid." for a typo only a driver knows.
		typo := writeFile(t, filepath.Join(home, "typo.yaml"), "providers:\n  - name: github\n    issuer: https://github.com\n    client_id: Iv1.abc\n    options: {api_ur: https://api.github.com}\n")
		code, out := runCLI(t, "config", "validate", "--config", typo)
		if code != 1 || strings.Contains(out, "Valid.") || !strings.Contains(out, `unknown option "api_ur" (did you mean "api_url"?`) {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})

	t.Run("start", func(t *testing.T) {
		// The checksum matches, but the binary is no driver: only --start finds out.
		code, out := runCLI(t, "config", "validate", "--config", goodPath, "--start")
		if code != 1 || !strings.Contains(out, `provider "corp": the driver did not start`) {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})

	t.Run("environment overrides", func(t *testing.T) {
		t.Setenv("MCPAUTH_CONFIG", goodPath)
		t.Setenv("MCPAUTH_PROVIDERS_GITHUB_GRANT", "devise")
		code, out := runCLI(t, "config", "validate")
		if code != 1 || !strings.Contains(out, `MCPAUTH_PROVIDERS_GITHUB_GRANT: providers[0].grant: "devise" is not valid; did you mean "device"?`) {
			t.Errorf("exit %d:\n%s", code, out)
		}
		t.Setenv("MCPAUTH_PROVIDERS_GITHUB_GRANT", "device")
		code, out = runCLI(t, "config", "validate")
		if code != 0 || !strings.Contains(out, "(from $MCPAUTH_CONFIG)") || !strings.Contains(out, "Overridden by the environment: MCPAUTH_PROVIDERS_GITHUB_GRANT") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})

	t.Run("missing file", func(t *testing.T) {
		code, out := runCLI(t, "config", "validate", "--config", filepath.Join(home, "nope.yaml"))
		if code != 1 || !strings.Contains(out, "no such file") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})

	t.Run("no file at all", func(t *testing.T) {
		code, out := runCLI(t, "config", "validate")
		if code != 1 || !strings.Contains(out, "no config file") || !strings.Contains(out, "mcpauth config init") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})

	t.Run("environment only", func(t *testing.T) {
		t.Setenv("MCPAUTH_PROVIDERS", "dev")
		t.Setenv("MCPAUTH_PROVIDERS_DEV_ISSUER", "http://127.0.0.1:9999")
		t.Setenv("MCPAUTH_PROVIDERS_DEV_CLIENT_ID", "mcpauth-dev")
		code, out := runCLI(t, "config", "validate")
		if code != 0 || !strings.Contains(out, "No config file: the environment only.") || !strings.Contains(out, "dev ") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
}

func TestConfigInit(t *testing.T) {
	home := isolateConfig(t)

	// Default location: the user config directory.
	code, out := runCLI(t, "config", "init")
	def := filepath.Join(home, "mcpauth", "config.yaml")
	if code != 0 || !strings.Contains(out, "Wrote an example config to "+def) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	data, err := os.ReadFile(def)
	if err != nil || !bytes.Equal(data, config.Example) {
		t.Fatalf("wrote %q (%v), want the example", data, err)
	}
	if st, _ := os.Stat(def); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	// What it wrote validates.
	if code, out := runCLI(t, "config", "validate"); code != 0 {
		t.Errorf("validate after init: exit %d\n%s", code, out)
	}

	// No overwrite without --force.
	writeFile(t, def, "mode: explicit\n")
	code, out = runCLI(t, "config", "init")
	if code != 1 || !strings.Contains(out, "already exists; use --force") {
		t.Errorf("second init: exit %d\n%s", code, out)
	}
	if data, _ := os.ReadFile(def); string(data) != "mode: explicit\n" {
		t.Errorf("the existing file was changed: %q", data)
	}
	if code, out := runCLI(t, "config", "init", "--force"); code != 0 {
		t.Errorf("--force: exit %d\n%s", code, out)
	}
	if data, _ := os.ReadFile(def); !bytes.Equal(data, config.Example) {
		t.Errorf("--force did not overwrite")
	}

	// --config, into a new directory.
	other := filepath.Join(home, "a", "b", "c.yaml")
	if code, out := runCLI(t, "config", "init", "--config", other); code != 0 {
		t.Errorf("--config: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(other); err != nil {
		t.Error(err)
	}

	// --stdout.
	var stdout, stderr bytes.Buffer
	if err := configCommand(context.Background(), []string{"init", "--stdout"}, &stdout, &stderr, nil); err != nil || !bytes.Equal(stdout.Bytes(), config.Example) {
		t.Errorf("--stdout: %v, wrote %d bytes", err, stdout.Len())
	}
}

func TestConfigUsage(t *testing.T) {
	isolateConfig(t)
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"config"}, 2, "Usage: mcpauth config <command>"},
		{[]string{"config", "--help"}, 0, "validate"},
		{[]string{"config", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"config", "validate", "--help"}, 0, "--config"},
		{[]string{"config", "validate", "extra"}, 2, "unexpected arguments"},
		{[]string{"config", "init", "--help"}, 0, "--force"},
		{[]string{"config", "init", "--stdout", "--force"}, 2, "--stdout writes no file"},
	} {
		if code, out := runCLI(t, tt.args...); code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", tt.args, code, tt.code, tt.want, out)
		}
	}
}
