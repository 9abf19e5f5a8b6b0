package google

import (
	"context"

	"github.com/mcpauth/mcpauth/provider"
)

// Registration is the driver's catalogue entry. Its factory makes no
// request. It takes no options.
var Registration = provider.Registration{
	Name:   Name,
	Claims: Claims,
	Claim:  "google claims https://accounts.google.com",
	New:    newFromConfig,
}

func newFromConfig(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	var none struct{}
	if err := cfg.DecodeOptions(Name, &none); err != nil {
		return nil, err
	}
	return New(Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
		Discover: cfg.Discover, Endpoints: cfg.Endpoints, ExtraParams: cfg.ExtraParams})
}
