package auth0

import (
	"context"
	"fmt"

	"github.com/mcpauth/mcpauth/provider"
)

// Options are the driver's settings under options: in configuration.
type Options struct {
	// Audience is the API identifier tokens are for (see Config.Audience);
	// the friendly form of extra_params: {audience: …}.
	Audience string `option:"audience"`
	// OfflineAccess: "true" (default) or "false" (see Config.DisableRefresh).
	OfflineAccess string `option:"offline_access"`
}

// Registration is the driver's catalogue entry. Its factory makes no
// request.
var Registration = provider.Registration{
	Name:   Name,
	Claims: Claims,
	Claim:  "auth0 claims TENANT.auth0.com and TENANT.{us,eu,au,jp,ca,uk}.auth0.com (custom domains: driver: auth0)",
	New: func(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
		var opts Options
		if err := cfg.DecodeOptions(Name, &opts); err != nil {
			return nil, err
		}
		c := Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, Audience: opts.Audience, Scopes: cfg.Scopes,
			Metadata: cfg.Metadata, Discover: cfg.Discover, Endpoints: cfg.Endpoints, ExtraParams: cfg.ExtraParams}
		switch v := opts.OfflineAccess; v {
		case "", "true":
		case "false":
			c.DisableRefresh = true
		default:
			return nil, fmt.Errorf("auth0: options.offline_access %q: want true or false", v)
		}
		return New(c)
	},
}
