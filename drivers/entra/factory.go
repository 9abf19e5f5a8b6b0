package entra

import (
	"context"
	"fmt"

	"github.com/mcpauth/mcpauth/provider"
)

// Options are the driver's settings under options: in configuration.
type Options struct {
	// OfflineAccess: "true" (default) or "false" (see Config.DisableRefresh).
	OfflineAccess string `option:"offline_access"`
}

// Registration is the driver's catalogue entry. Its factory makes no
// request. It ignores an injected DriverConfig.Discover and Metadata: the
// host's discovery checks the issuer exactly, which the common and
// organizations documents (issuer .../{tenantid}/v2.0) cannot pass, so the
// driver discovers with its own capped, timed, https-only fetch.
var Registration = provider.Registration{
	Name:   Name,
	Claims: Claims,
	Claim:  "entra claims https://login.microsoftonline.com/{tenant}/v2.0",
	New:    newFromConfig,
}

func newFromConfig(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	var opts Options
	if err := cfg.DecodeOptions(Name, &opts); err != nil {
		return nil, err
	}
	c := Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
		Endpoints: cfg.Endpoints, ExtraParams: cfg.ExtraParams}
	switch v := opts.OfflineAccess; v {
	case "", "true":
	case "false":
		c.DisableRefresh = true
	default:
		return nil, fmt.Errorf("entra: options.offline_access %q: want true or false", v)
	}
	return New(c)
}
