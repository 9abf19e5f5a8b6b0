package provider

import "context"

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
