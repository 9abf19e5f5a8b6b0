package oidc

import (
	"context"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/provider"
)

// Registration is the generic driver's catalogue entry (temporary: replaced by the drivers branch).
var Registration = provider.Registration{Name: Name, New: func(ctx context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	if err := cfg.CheckOptions(Name); err != nil {
		return nil, err
	}
	if cfg.Discover == nil {
		cfg.Discover = discovery.AuthServer
	}
	return New(Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, Scopes: cfg.Scopes, Metadata: cfg.Metadata, Discover: cfg.Discover})
}}
