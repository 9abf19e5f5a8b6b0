package okta

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/provider"
)

// Options are the driver's settings under options: in configuration.
var Options = []string{
	// authorization_server_id names a custom authorization server when the
	// issuer is the org (https://DOMAIN): "default" makes the issuer
	// https://DOMAIN/oauth2/default.
	"authorization_server_id",
	// offline_access: "true" (default) or "false" (see Config.DisableRefresh).
	"offline_access",
	// dpop: "auto" (default: on when Okta asks) or "required" (see Config.RequireDPoP).
	"dpop",
}

// Factory builds the driver from a host's configuration. Discovery goes
// through cfg.Discover with DiscoveryFallbacks. It makes no request.
func Factory(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	if err := cfg.CheckOptions(Name, Options...); err != nil {
		return nil, err
	}
	c := Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, Scopes: cfg.Scopes}
	if id := cfg.Options["authorization_server_id"]; id != "" {
		u, err := url.Parse(cfg.Issuer)
		if err != nil || strings.Trim(u.Path, "/") != "" {
			return nil, fmt.Errorf("okta: options.authorization_server_id %q needs the org issuer (https://DOMAIN), got %q", id, cfg.Issuer)
		}
		c.Issuer = strings.TrimSuffix(cfg.Issuer, "/") + "/oauth2/" + url.PathEscape(id)
	}
	switch v := cfg.Options["offline_access"]; v {
	case "", "true":
	case "false":
		c.DisableRefresh = true
	default:
		return nil, fmt.Errorf("okta: options.offline_access %q: want true or false", v)
	}
	switch v := cfg.Options["dpop"]; v {
	case "", "auto":
	case "required":
		c.RequireDPoP = true
	default:
		return nil, fmt.Errorf("okta: options.dpop %q: want auto or required", v)
	}
	if cfg.Metadata != nil && cfg.Metadata.Issuer == c.Issuer {
		c.Metadata = cfg.Metadata
	}
	c.Discover = cfg.Discover
	if c.Discover == nil {
		c.Discover = func(ctx context.Context, iss string) (*provider.AuthServerMetadata, error) {
			return discovery.Default.AuthServer(ctx, iss, DiscoveryFallbacks(iss)...)
		}
	}
	return New(c)
}
