package config

import (
	"errors"
	"fmt"
	"slices"
)

// TEMPORARY stub until the config branch lands (LoadWith merge, IsSet, NoProvidersError).

type LoadOptions struct {
	Environ  []string
	Defaults []Provider
	Drivers  []string
}

var ErrNoProviders = errors.New("config: no providers configured")

type Searched struct {
	Path, Source string
	Found        bool
	Environ      []string
}

func NoProvidersError(s Searched) error { return fmt.Errorf("%w (%+v)", ErrNoProviders, s) }

func LoadWith(path string, o LoadOptions) (*File, error) {
	f, err := LoadEnv(path, o.Environ)
	if err != nil {
		return nil, err
	}
	for _, d := range o.Defaults {
		if !slices.ContainsFunc(f.Providers, func(p Provider) bool { return p.Name == d.Name }) {
			if d.Grant == "" {
				d.Grant = DefaultGrant
			}
			if d.Isolation == "" {
				d.Isolation = DefaultIsolation
			}
			f.Providers = append(f.Providers, d)
		}
	}
	return f, nil
}

func (f *File) IsSet(key string) bool { return false }
