package sdk

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/registry"
)

// NewFromConfig builds an Auth from the user's config file, the way end
// users choose providers: path is a --config flag value; "" means
// $MCPAUTH_CONFIG, then the user config directory, and with neither the
// MCPAUTH_* environment variables alone (for docker run -e …). Drivers come
// from the registry: built-in drivers resolved from the issuer or named in
// the file, external driver plugins verified by sha256; none starts before
// the first login. The file's mode and login_timeout apply; opts.Providers
// must be empty. Close kills the driver plugins.
func NewFromConfig(ctx context.Context, path string, opts Options) (*Auth, error) {
	if len(opts.Providers) > 0 {
		return nil, errors.New("mcpauth: NewFromConfig takes its providers from the config file; Options.Providers must be empty")
	}
	p, _, err := config.Find(path)
	if errors.Is(err, config.ErrNotFound) {
		p = "" // environment only
	} else if err != nil {
		return nil, err
	}
	f, err := config.Load(p)
	if err != nil {
		return nil, err
	}
	if len(f.Providers) == 0 {
		return nil, fmt.Errorf("mcpauth: no providers configured (config file %q, or MCPAUTH_PROVIDERS)", p)
	}
	reg, err := registry.Open(f, registry.Options{Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	for _, rp := range reg.Providers() {
		opts.Providers = append(opts.Providers, Provider{
			Name:                     rp.Name,
			Driver:                   rp.Driver,
			Scopes:                   rp.Scopes,
			Grant:                    rp.Grant,
			LoopbackPort:             rp.LoopbackPort,
			ClientIDMetadataDocument: rp.ClientIDMetadataDocument,
		})
	}
	if opts.Mode, err = ParseMode(f.Mode); err != nil {
		reg.Close()
		return nil, err
	}
	opts.WaitTimeout = f.LoginTimeout
	a, err := New(ctx, opts)
	if err != nil {
		reg.Close()
		return nil, err
	}
	a.closeRegistry = reg.Close
	return a, nil
}
