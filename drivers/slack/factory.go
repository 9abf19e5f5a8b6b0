package slack

import (
	"context"
	"errors"

	"github.com/mcpauth/mcpauth/provider"
)

// Options are the driver's settings under options: in configuration.
type Options struct {
	// ClientSecret is accepted for configuration files written before the
	// top-level client_secret field; that field wins when both are set.
	ClientSecret string `option:"client_secret"`
}

// Registration is the driver's catalogue entry: the issuer is Slack's host
// (empty means https://slack.com). Its factory makes no request.
var Registration = provider.Registration{
	Name:   Name,
	Claims: Claims,
	Claim:  "slack claims https://slack.com (OAuth v2 user tokens, PKCE only)",
	New: func(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
		var opts Options
		if err := cfg.DecodeOptions(Name, &opts); err != nil {
			return nil, err
		}
		if !cfg.Endpoints.IsZero() || len(cfg.ExtraParams) > 0 {
			return nil, errors.New("slack: endpoint overrides and extra parameters are not supported: Slack's OAuth v2 endpoints and parameters are fixed")
		}
		secret := cfg.ClientSecret
		if secret == "" {
			secret = opts.ClientSecret
		}
		return New(Config{BaseURL: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: secret, Scopes: cfg.Scopes})
	},
}
