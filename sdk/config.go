package sdk

import (
	"errors"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/registry"
)

// loadConfig merges the user's configuration over the author's defaults:
// code defaults < config file < MCPAUTH_* variables, field by field.
func loadConfig(opts Options) (*config.File, error) {
	path, source, findErr := config.Find(opts.ConfigFile)
	if findErr != nil && !errors.Is(findErr, config.ErrNotFound) {
		return nil, findErr
	}
	file := path
	if findErr != nil {
		file = "" // the default location has none: defaults and environment only
	}
	f, err := config.LoadWith(file, config.LoadOptions{
		Environ:  opts.Environ,
		Defaults: opts.Providers,
		Drivers:  registry.DriverNames(opts.Drivers),
	})
	if err != nil {
		return nil, err
	}
	if len(f.Providers) == 0 {
		return nil, config.NoProvidersError(config.Searched{Path: path, Source: source, Err: findErr, Environ: opts.Environ})
	}
	return f, nil
}
