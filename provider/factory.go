package provider

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// DriverConfig is what every driver is built from, whether it runs in the
// host process or as a plugin: the provider's configuration plus a way to
// discover metadata.
type DriverConfig struct {
	Issuer   string
	ClientID string
	Scopes   []string
	// Options are driver-specific settings from the config file (e.g. a
	// GitHub Enterprise host).
	Options map[string]string
	// Metadata, when the host already has it; drivers otherwise call Discover.
	Metadata *AuthServerMetadata
	// Discover finds authorization-server metadata (RFC 8414 / OIDC), trying
	// fallbacks last. Supplied by the host or the plugin runtime.
	Discover func(ctx context.Context, issuer string, fallbacks ...string) (*AuthServerMetadata, error)
}

// DriverFactory builds a driver. It must not make network requests: drivers
// discover lazily, at the first login.
type DriverFactory func(ctx context.Context, cfg DriverConfig) (Driver, error)

// CheckOptions refuses options the driver does not know, so a typo in a
// config file's options map is an error naming the key instead of a setting
// silently ignored.
func (c DriverConfig) CheckOptions(driver string, known ...string) error {
	var unknown []string
	for k := range c.Options {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	accepted := "none"
	if len(known) > 0 {
		accepted = strings.Join(known, ", ")
	}
	return fmt.Errorf("%s: unknown option %q (known: %s)", driver, unknown[0], accepted)
}
