package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestNoProvidersError(t *testing.T) {
	cfgHome := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfgHome)
	t.Setenv("MCPAUTH_CONFIG", "")
	def := filepath.Join(cfgHome, "mcpauth", "config.yaml")
	const hint = "; write a config file (mcpauth config init) or set MCPAUTH_PROVIDERS"

	check := func(name string, s Searched, want string) {
		t.Helper()
		err := NoProvidersError(s)
		if !errors.Is(err, ErrNoProviders) {
			t.Errorf("%s: %v does not wrap ErrNoProviders", name, err)
		}
		if err.Error() != want {
			t.Errorf("%s: error\n  %v\nwant\n  %s", name, err, want)
		}
	}

	path, source, err := Find("")
	check("nothing anywhere", Searched{Path: path, Source: source, Err: err},
		"config: no providers configured; looked at: --config (not given), $MCPAUTH_CONFIG (not set), "+def+" (does not exist), MCPAUTH_PROVIDERS (not set)"+hint)

	check("MCPAUTH_PROVIDERS empty", Searched{Path: path, Source: source, Err: err, Environ: []string{"MCPAUTH_PROVIDERS="}},
		"config: no providers configured; looked at: --config (not given), $MCPAUTH_CONFIG (not set), "+def+` (does not exist), MCPAUTH_PROVIDERS="" (names none)`+hint)

	check("the flag, with the default file absent", Searched{Path: "/etc/mcp.yaml", Source: SourceFlag},
		"config: no providers configured; looked at: --config /etc/mcp.yaml (names none), $MCPAUTH_CONFIG (not set), "+def+" (does not exist), MCPAUTH_PROVIDERS (not set)"+hint)

	if err := os.MkdirAll(filepath.Dir(def), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(def, []byte("mode: lazy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path, source, err = Find("")
	check("the default file names none", Searched{Path: path, Source: source, Err: err},
		"config: no providers configured; looked at: --config (not given), $MCPAUTH_CONFIG (not set), "+def+" (names none), MCPAUTH_PROVIDERS (not set)"+hint)

	env := []string{"MCPAUTH_CONFIG=/from/env.yaml"}
	check("MCPAUTH_CONFIG", Searched{Path: "/from/env.yaml", Source: SourceEnv, Environ: env},
		"config: no providers configured; looked at: --config (not given), $MCPAUTH_CONFIG=/from/env.yaml (names none), "+def+" (not read: $MCPAUTH_CONFIG comes first), MCPAUTH_PROVIDERS (not set)"+hint)

	check("the flag before MCPAUTH_CONFIG", Searched{Path: "/from/flag.yaml", Source: SourceFlag, Environ: env},
		"config: no providers configured; looked at: --config /from/flag.yaml (names none), $MCPAUTH_CONFIG=/from/env.yaml (not read: --config comes first), "+def+" (not read: --config comes first), MCPAUTH_PROVIDERS (not set)"+hint)
}
