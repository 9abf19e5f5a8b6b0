package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpauth/mcpauth/internal/suggest"
)

// Environment variables override the file (docker run -e …):
//
//	MCPAUTH_MODE, MCPAUTH_LOGIN_TIMEOUT, MCPAUTH_PLUGIN_DIR
//	MCPAUTH_PROVIDERS=github,slack           adds providers the file lacks
//	MCPAUTH_PROVIDERS_<NAME>_<FIELD>         sets one field of a provider
//	MCPAUTH_PROVIDERS_<NAME>_OPTIONS_<KEY>   sets one option (also
//	                                         EXTRA_PARAMS_<KEY>, ENDPOINTS_<KEY>)
//
// <NAME> is the provider name in upper case with "-" as "_"; <FIELD> is the
// key in upper case, plugin keys prefixed with PLUGIN_. Lists are separated
// by commas or spaces. An empty value removes the setting. Every variable
// under MCPAUTH_PROVIDERS_ must name a provider and a field: a typo is an
// error, not silently ignored.

const (
	envPrefix    = "MCPAUTH_"
	envProviders = "MCPAUTH_PROVIDERS"
)

// providerMaps are the provider keys holding a mapping, set one entry per
// variable: MCPAUTH_PROVIDERS_<NAME>_<prefix><KEY>, the entry's key being
// <KEY> in lower case.
var providerMaps = []struct {
	key, prefix string
	// keys are the entries the mapping can have; nil means any (the
	// validation checks their names).
	keys func() []string
	set  func(p *Provider, key, value string)
}{
	{"options", "OPTIONS_", nil, func(p *Provider, k, v string) { setEntry(&p.Options, k, v) }},
	{"extra_params", "EXTRA_PARAMS_", nil, func(p *Provider, k, v string) { setEntry(&p.ExtraParams, k, v) }},
	{"endpoints", "ENDPOINTS_", endpointNames, func(p *Provider, k, v string) { *endpoint(&p.Endpoints, k) = v }},
}

// setEntry sets m[k] to v, or deletes it when v is empty.
func setEntry(m *map[string]string, k, v string) {
	if v == "" {
		delete(*m, k)
		return
	}
	if *m == nil {
		*m = make(map[string]string)
	}
	(*m)[k] = v
}

// fileEnv maps top-level keys to their variables.
var fileEnv = []struct{ key, env string }{
	{"mode", "MCPAUTH_MODE"},
	{"login_timeout", "MCPAUTH_LOGIN_TIMEOUT"},
	{"plugin_dir", "MCPAUTH_PLUGIN_DIR"},
	{"store", "MCPAUTH_STORE"},
	{"open_browser", "MCPAUTH_OPEN_BROWSER"},
}

// providerEnv maps provider keys (relative to the provider) to the suffix
// of their variables. "name" has none: a provider is named by its variables.
var providerEnv = []struct{ key, suffix string }{
	{"display_name", "DISPLAY_NAME"},
	{"driver", "DRIVER"},
	{"issuer", "ISSUER"},
	{"resource", "RESOURCE"},
	{"client_id", "CLIENT_ID"},
	{"client_secret", "CLIENT_SECRET"},
	{"client_id_metadata_document", "CLIENT_ID_METADATA_DOCUMENT"},
	{"scopes", "SCOPES"},
	{"apis", "APIS"},
	{"grant", "GRANT"},
	{"loopback_host", "LOOPBACK_HOST"},
	{"loopback_port", "LOOPBACK_PORT"},
	{"verification_hosts", "VERIFICATION_HOSTS"},
	{"isolation", "ISOLATION"},
	{"store", "STORE"},
	{"plugin.path", "PLUGIN_PATH"},
	{"plugin.sha256", "PLUGIN_SHA256"},
	{"plugin.env", "PLUGIN_ENV"},
}

// envSegment is a provider name as it appears in variable names.
func envSegment(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// splitList splits a list value at commas and white space.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

func (d *decoder) applyEnv(f *File, environ []string) {
	env := make(map[string]string)
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, envPrefix) {
			env[k] = v // a later duplicate wins, as in a shell
		}
	}
	if len(env) == 0 {
		return
	}
	for _, fe := range fileEnv {
		v, ok := env[fe.env]
		if !ok {
			continue
		}
		d.origins[fe.key] = origin{env: fe.env}
		switch fe.key {
		case "mode":
			f.Mode = v
		case "plugin_dir":
			f.PluginDir = v
		case "store":
			f.Store = v
		case "open_browser":
			if v == "" {
				delete(d.origins, fe.key) // the default applies
				break
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				d.problem(fe.key, "%s=%q: want true or false", fe.env, v)
				break
			}
			f.OpenBrowser = b
		case "login_timeout":
			f.LoginTimeout = 0
			if v == "" {
				delete(d.origins, fe.key) // the default applies
			} else {
				f.LoginTimeout, _ = d.duration(v, fe.key)
			}
		}
	}
	if list, ok := env[envProviders]; ok {
		for _, name := range splitList(list) {
			if slices.ContainsFunc(f.Providers, func(p Provider) bool { return p.Name == name }) {
				continue
			}
			path := fmt.Sprintf("providers[%d]", len(f.Providers))
			d.origins[path] = origin{env: envProviders}
			f.Providers = append(f.Providers, Provider{Name: name})
		}
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		if strings.HasPrefix(k, envProviders+"_") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		d.applyProviderEnv(f, k, env[k])
	}
}

// applyProviderEnv applies one MCPAUTH_PROVIDERS_<NAME>_<FIELD> variable.
func (d *decoder) applyProviderEnv(f *File, key, value string) {
	rest := strings.TrimPrefix(key, envProviders+"_")
	type match struct {
		i     int
		field string
	}
	var known, prefixed []match
	for i, p := range f.Providers {
		seg := envSegment(p.Name) + "_"
		if p.Name == "" || !strings.HasPrefix(rest, seg) {
			continue
		}
		m := match{i, strings.TrimPrefix(rest, seg)}
		prefixed = append(prefixed, m)
		if providerField(m.field) != "" {
			known = append(known, m)
		}
	}
	switch {
	case len(known) == 1:
		m := known[0]
		d.setProviderField(&f.Providers[m.i], fmt.Sprintf("providers[%d]", m.i), key, m.field, value)
	case len(known) > 1:
		names := make([]string, len(known))
		for i, m := range known {
			names[i] = fmt.Sprintf("%q", f.Providers[m.i].Name)
		}
		d.problems = append(d.problems, Problem{Env: key, Message: "ambiguous: it can address providers " + strings.Join(names, " and ") + "; rename one"})
	case len(prefixed) > 0:
		m := prefixed[0]
		seg := envProviders + "_" + envSegment(f.Providers[m.i].Name) + "_"
		var suffixes []string
		for _, pe := range providerEnv {
			suffixes = append(suffixes, pe.suffix)
		}
		for _, pm := range providerMaps {
			if pm.keys == nil {
				suffixes = append(suffixes, pm.prefix+"<KEY>")
				continue
			}
			for _, k := range pm.keys() {
				suffixes = append(suffixes, pm.prefix+strings.ToUpper(k))
			}
		}
		msg := fmt.Sprintf("unknown setting %s for provider %q", m.field, f.Providers[m.i].Name)
		if s := suggest.Closest(m.field, suffixes); s != "" {
			msg += "; did you mean " + seg + s + "?"
		} else {
			msg += "; the settings are " + seg + "{" + strings.Join(suffixes, ",") + "}"
		}
		d.problems = append(d.problems, Problem{Env: key, Message: msg})
	default:
		var names []string
		for _, p := range f.Providers {
			names = append(names, fmt.Sprintf("%q", p.Name))
		}
		msg := "names no provider; add it to " + envProviders + " (a comma-separated list of names)"
		if len(names) > 0 {
			msg = "names no provider (the providers are " + strings.Join(names, ", ") + "); add new ones to " + envProviders
		}
		d.problems = append(d.problems, Problem{Env: key, Message: msg})
	}
}

// providerField returns the key that a variable suffix sets ("plugin.path"
// for PLUGIN_PATH, "options.region" for OPTIONS_REGION), or "".
func providerField(suffix string) string {
	for _, pm := range providerMaps {
		k, ok := strings.CutPrefix(suffix, pm.prefix)
		k = strings.ToLower(k)
		if ok && k != "" && (pm.keys == nil || contains(pm.keys(), k)) {
			return pm.key + "." + k
		}
	}
	for _, pe := range providerEnv {
		if pe.suffix == suffix {
			return pe.key
		}
	}
	return ""
}

func (d *decoder) setProviderField(p *Provider, provider, env, suffix, v string) {
	key := providerField(suffix)
	path := provider + "." + key
	d.origins[path] = origin{env: env}
	for _, pm := range providerMaps {
		if k, ok := strings.CutPrefix(key, pm.key+"."); ok {
			pm.set(p, k, v)
			return
		}
	}
	if strings.HasPrefix(key, "plugin.") && p.Plugin == nil {
		if v == "" {
			return
		}
		p.Plugin = &Plugin{}
		d.origins[provider+".plugin"] = origin{env: env}
	}
	switch key {
	case "display_name":
		p.DisplayName = v
	case "driver":
		p.Driver = v
	case "issuer":
		p.Issuer = v
	case "resource":
		p.Resource = v
	case "client_id":
		p.ClientID = v
	case "client_secret":
		p.ClientSecret = v
	case "client_id_metadata_document":
		p.ClientIDMetadataDocument = v
	case "scopes":
		p.Scopes = envList(v)
	case "apis":
		p.APIs = envList(v)
	case "verification_hosts":
		p.VerificationHosts = envList(v)
	case "grant":
		p.Grant = v
	case "loopback_host":
		p.LoopbackHost = v
	case "loopback_port":
		p.LoopbackPort = 0
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			d.problem(path, "%q is not a port number (0 to 65535; 0 picks a free port)", v)
			return
		}
		p.LoopbackPort = n
	case "isolation":
		p.Isolation = v
	case "store":
		p.Store = v
	case "plugin.path":
		p.Plugin.Path = v
	case "plugin.sha256":
		p.Plugin.SHA256 = v
	case "plugin.env":
		p.Plugin.Env = splitList(v)
	}
}

// envList is a list variable's value: nil (the default) when empty.
func envList(v string) []string {
	if v == "" {
		return nil
	}
	return splitList(v)
}
