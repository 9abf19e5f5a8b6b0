package gitlab

import (
	"context"

	"github.com/mcpauth/mcpauth/provider"
)

// Options are the driver's settings under options: in configuration.
type Options struct {
	// APIURL is the REST API root, when it is not {issuer}/api/v4 (see
	// Config.APIURL).
	APIURL string `option:"api_url"`
}

// Registration is the driver's catalogue entry. It claims gitlab.com only;
// a self-managed instance names the driver (driver: gitlab). Its factory
// makes no request.
var Registration = provider.Registration{
	Name:   Name,
	Claims: Claims,
	Claim:  "gitlab claims https://gitlab.com (self-managed instances: driver: gitlab)",
	New: func(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
		var opts Options
		if err := cfg.DecodeOptions(Name, &opts); err != nil {
			return nil, err
		}
		return New(Config{
			Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
			APIURL: opts.APIURL, Metadata: cfg.Metadata, Discover: cfg.Discover,
			Endpoints: cfg.Endpoints, ExtraParams: cfg.ExtraParams,
		})
	},
}
