package slack

import (
	"context"

	"github.com/mcpauth/mcpauth/provider"
)

// Options are the driver's settings under options: in configuration.
var Options = []string{
	"client_secret", // sent with the code exchange and refresh (see Config.ClientSecret)
}

// Factory builds the driver from a host's configuration: the issuer is
// Slack's host (empty means https://slack.com). It makes no request.
func Factory(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	if err := cfg.CheckOptions(Name, Options...); err != nil {
		return nil, err
	}
	return New(Config{
		BaseURL:      cfg.Issuer,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.Options["client_secret"],
		Scopes:       cfg.Scopes,
	})
}
