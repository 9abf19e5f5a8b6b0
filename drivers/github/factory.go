package github

import (
	"context"

	"github.com/mcpauth/mcpauth/provider"
)

// Options are the driver's settings under options: in configuration.
var Options = []string{
	"api_url",       // the REST API root, when it is not the default (see Config.APIURL)
	"client_secret", // sent with the code exchange and refresh (see Config.ClientSecret)
}

// Factory builds the driver from a host's configuration: the issuer is the
// GitHub host (empty means github.com). It makes no request.
func Factory(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	if err := cfg.CheckOptions(Name, Options...); err != nil {
		return nil, err
	}
	return New(Config{
		BaseURL:      cfg.Issuer,
		APIURL:       cfg.Options["api_url"],
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.Options["client_secret"],
		Scopes:       cfg.Scopes,
	})
}
