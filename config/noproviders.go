package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Searched is where a configuration was looked for: Find's results and the
// environment the configuration was loaded with. NoProvidersError reports
// it.
type Searched struct {
	// Path, Source and Err are what Find returned.
	Path   string
	Source string
	Err    error
	// Environ is the environment given to LoadWith; MCPAUTH_CONFIG and
	// MCPAUTH_PROVIDERS are looked up in it.
	Environ []string
}

// NoProvidersError is the error for a configuration with no provider at
// all: it wraps ErrNoProviders and names every place looked at, so that a
// user who expected providers sees which file was (or was not) read:
//
//	config: no providers configured; looked at: --config (not given), $MCPAUTH_CONFIG (not set),
//	/home/u/.config/mcpauth/config.yaml (does not exist), MCPAUTH_PROVIDERS (not set);
//	write a config file (mcpauth config init) or set MCPAUTH_PROVIDERS
//
// (on one line). The caller decides that there are none: len(f.Providers)
// is 0, or no file could be loaded.
func NoProvidersError(s Searched) error {
	places := make([]string, 0, 4)
	chosen := "" // which of --config and $MCPAUTH_CONFIG was read
	switch s.Source {
	case SourceFlag:
		places = append(places, "--config "+s.Path+" (names none)")
		chosen = "--config"
	default:
		places = append(places, "--config (not given)")
	}
	switch v, set := lookupEnv(s.Environ, "MCPAUTH_CONFIG"); {
	case s.Source == SourceEnv:
		places = append(places, "$MCPAUTH_CONFIG="+s.Path+" (names none)")
		chosen = "$MCPAUTH_CONFIG"
	case set && v != "" && chosen != "":
		places = append(places, "$MCPAUTH_CONFIG="+v+" (not read: "+chosen+" comes first)")
	default:
		places = append(places, "$MCPAUTH_CONFIG (not set)")
	}
	switch def, err := DefaultPath(); {
	case s.Source == SourceDefault && errors.Is(s.Err, ErrNotFound):
		places = append(places, s.Path+" (does not exist)")
	case s.Source == SourceDefault && s.Err == nil:
		places = append(places, s.Path+" (names none)")
	case err != nil:
		places = append(places, "the default location (there is none: no user config directory)")
	default:
		_, err := os.Stat(def)
		switch {
		case err != nil:
			places = append(places, def+" (does not exist)")
		case chosen != "":
			places = append(places, def+" (not read: "+chosen+" comes first)")
		default:
			places = append(places, def+" (exists, not read)")
		}
	}
	if v, set := lookupEnv(s.Environ, envProviders); set {
		places = append(places, fmt.Sprintf("%s=%q (names none)", envProviders, v))
	} else {
		places = append(places, envProviders+" (not set)")
	}
	return fmt.Errorf("%w; looked at: %s; write a config file (mcpauth config init) or set %s",
		ErrNoProviders, strings.Join(places, ", "), envProviders)
}

// lookupEnv finds key in environ; a later entry wins, as in a shell.
func lookupEnv(environ []string, key string) (string, bool) {
	for _, kv := range slices.Backward(environ) {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}
