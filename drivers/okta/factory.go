package okta

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/mcpauth/mcpauth/provider"
)

// Options are the driver's settings under options: in configuration.
type Options struct {
	// AuthorizationServerID names a custom authorization server when the
	// issuer is the org (https://DOMAIN): "default" makes the issuer
	// https://DOMAIN/oauth2/default.
	AuthorizationServerID string `option:"authorization_server_id"`
	// OfflineAccess: "true" (default) or "false" (see Config.DisableRefresh).
	OfflineAccess string `option:"offline_access"`
	// DPoP: "auto" (default: on when Okta asks) or "required" (see
	// Config.RequireDPoP).
	DPoP string `option:"dpop"`
	// MetadataClientID: send ?client_id= with metadata requests (see
	// Config.MetadataClientID).
	MetadataClientID bool `option:"metadata_client_id"`
}

// Registration is the driver's catalogue entry. Its factory makes no
// request; discovery uses DiscoveryFallbacks unless the host injects its
// own.
var Registration = provider.Registration{
	Name:   Name,
	Claims: Claims,
	Claim:  "okta claims *.okta.com, *.oktapreview.com and *.okta-emea.com",
	New:    newFromConfig,
}

func newFromConfig(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	var opts Options
	if err := cfg.DecodeOptions(Name, &opts); err != nil {
		return nil, err
	}
	c := Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, Scopes: cfg.Scopes, Discover: cfg.Discover,
		Endpoints: cfg.Endpoints, ExtraParams: cfg.ExtraParams, MetadataClientID: opts.MetadataClientID}
	if id := opts.AuthorizationServerID; id != "" {
		u, err := url.Parse(cfg.Issuer)
		if err != nil || strings.Trim(u.Path, "/") != "" {
			return nil, fmt.Errorf("okta: options.authorization_server_id %q needs the org issuer (https://DOMAIN), got %q", id, cfg.Issuer)
		}
		c.Issuer = strings.TrimSuffix(cfg.Issuer, "/") + "/oauth2/" + url.PathEscape(id)
	}
	switch v := opts.OfflineAccess; v {
	case "", "true":
	case "false":
		c.DisableRefresh = true
	default:
		return nil, fmt.Errorf("okta: options.offline_access %q: want true or false", v)
	}
	switch v := opts.DPoP; v {
	case "", "auto":
	case "required":
		c.RequireDPoP = true
	default:
		return nil, fmt.Errorf("okta: options.dpop %q: want auto or required", v)
	}
	if cfg.Metadata != nil && cfg.Metadata.Issuer == c.Issuer {
		c.Metadata = cfg.Metadata
	}
	return New(c)
}
