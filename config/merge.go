package config

import (
	"fmt"
	"maps"
	"slices"
)

// Server defaults (LoadOptions.Defaults) are the providers a server's
// author declares in code. The file is laid over them field by field,
// before the environment, so that precedence is always: code < file <
// environment. A field a default sets and nothing overrides is recorded
// with a server-default origin, so a problem in it says so instead of
// pointing at a line that does not hold it.

// mergeDefaults lays the file's providers over the defaults of the same
// name. File entries keep their places (and so their paths in messages);
// the defaults the file does not name follow them.
func (d *decoder) mergeDefaults(f *File, defaults []Provider) {
	used := make([]bool, len(defaults))
	for i := range f.Providers {
		p := &f.Providers[i]
		if p.Name == "" {
			continue
		}
		for j, def := range defaults {
			if !used[j] && def.Name == p.Name {
				used[j] = true
				d.overlay(p, def, fmt.Sprintf("providers[%d]", i))
				break
			}
		}
	}
	for j, def := range defaults {
		if used[j] {
			continue
		}
		path := fmt.Sprintf("providers[%d]", len(f.Providers))
		d.origins[path] = origin{dflt: true, provider: def.Name}
		f.Providers = append(f.Providers, cloneProvider(def))
	}
}

// overlay fills in the fields of p (a file entry at path) that the file
// does not set from def. A list set in the file replaces the default's;
// options, extra_params, endpoints and plugin merge key by key.
func (d *decoder) overlay(p *Provider, def Provider, path string) {
	set := func(key string) bool {
		_, ok := d.origins[path+"."+key]
		return ok
	}
	from := func(key string, zero bool) {
		if !zero {
			d.origins[path+"."+key] = origin{dflt: true, provider: def.Name}
		}
	}
	str := func(key string, dst *string, v string) {
		if !set(key) {
			*dst = v
			from(key, v == "")
		}
	}
	list := func(key string, dst *[]string, v []string) {
		if !set(key) {
			*dst = slices.Clone(v)
			from(key, v == nil)
		}
	}
	kv := func(key string, dst *map[string]string, v map[string]string) {
		for k, x := range v {
			if _, ok := (*dst)[k]; ok || set(key+"."+k) {
				continue
			}
			if *dst == nil {
				*dst = make(map[string]string)
			}
			(*dst)[k] = x
			from(key+"."+k, false)
		}
	}

	str("display_name", &p.DisplayName, def.DisplayName)
	str("driver", &p.Driver, def.Driver)
	// issuer and resource are alternatives: the file choosing one drops
	// the default's other.
	if !set("issuer") && !set("resource") {
		str("issuer", &p.Issuer, def.Issuer)
		str("resource", &p.Resource, def.Resource)
	}
	str("client_id", &p.ClientID, def.ClientID)
	str("client_secret", &p.ClientSecret, def.ClientSecret)
	str("client_id_metadata_document", &p.ClientIDMetadataDocument, def.ClientIDMetadataDocument)
	list("scopes", &p.Scopes, def.Scopes)
	list("apis", &p.APIs, def.APIs)
	str("grant", &p.Grant, def.Grant)
	str("loopback_host", &p.LoopbackHost, def.LoopbackHost)
	if !set("loopback_port") {
		p.LoopbackPort = def.LoopbackPort
		from("loopback_port", def.LoopbackPort == 0)
	}
	list("verification_hosts", &p.VerificationHosts, def.VerificationHosts)
	str("isolation", &p.Isolation, def.Isolation)
	str("store", &p.Store, def.Store)
	if def.Plugin != nil {
		if p.Plugin == nil && !set("plugin") {
			p.Plugin = &Plugin{}
			from("plugin", false)
		}
		if p.Plugin != nil {
			str("plugin.path", &p.Plugin.Path, def.Plugin.Path)
			str("plugin.sha256", &p.Plugin.SHA256, def.Plugin.SHA256)
			list("plugin.env", &p.Plugin.Env, def.Plugin.Env)
		}
	}
	kv("options", &p.Options, def.Options)
	for _, e := range endpointKeys {
		str("endpoints."+e.key, e.field(&p.Endpoints), *e.field(&def.Endpoints))
	}
	kv("extra_params", &p.ExtraParams, def.ExtraParams)
}

// cloneProvider copies p deeply: the caller's defaults are never changed.
func cloneProvider(p Provider) Provider {
	p.Scopes = slices.Clone(p.Scopes)
	p.APIs = slices.Clone(p.APIs)
	p.VerificationHosts = slices.Clone(p.VerificationHosts)
	p.Options = maps.Clone(p.Options)
	p.ExtraParams = maps.Clone(p.ExtraParams)
	if p.Plugin != nil {
		pl := *p.Plugin
		pl.Env = slices.Clone(pl.Env)
		p.Plugin = &pl
	}
	return p
}
