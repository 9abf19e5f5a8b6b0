package github

import (
	"context"

	"github.com/mcpauth/mcpauth/provider"
)

// Options are the driver's settings under options: in configuration.
type Options struct {
	// APIURL is the REST API root, when it is not the default (see
	// Config.APIURL).
	APIURL string `option:"api_url"`
	// ClientSecret is accepted for configuration files written before the
	// top-level client_secret field; that field wins when both are set.
	ClientSecret string `option:"client_secret"`
}

// Registration is the driver's catalogue entry: the issuer is the GitHub
// host (empty means github.com). Its factory makes no request.
var Registration = provider.Registration{
	Name:   Name,
	Claims: Claims,
	Claim:  "github claims https://github.com (static endpoints, no discovery)",
	New: func(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
		var opts Options
		if err := cfg.DecodeOptions(Name, &opts); err != nil {
			return nil, err
		}
		secret := cfg.ClientSecret
		if secret == "" {
			secret = opts.ClientSecret
		}
		return New(Config{
			BaseURL:      cfg.Issuer,
			APIURL:       opts.APIURL,
			ClientID:     cfg.ClientID,
			ClientSecret: secret,
			Scopes:       cfg.Scopes,
			Endpoints:    cfg.Endpoints,
			ExtraParams:  cfg.ExtraParams,
		})
	},
}
