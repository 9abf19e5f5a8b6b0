package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mcpauth/mcpauth/provider"
)

// Valid values, in documentation order.
var (
	modes      = []string{ModeLazy, ModeExplicit}
	drivers    = []string{DriverOIDC, DriverGitHub, DriverSlack, DriverOkta, DriverExternal}
	grants     = []string{GrantAuto, GrantDevice, GrantPKCE}
	isolations = []string{IsolationSubprocess, IsolationInProcess}
)

// Patterns shared with the JSON Schema (a test checks they agree).
var (
	providerName = regexp.MustCompile(`^[a-z0-9_-]+$`)
	optionName   = regexp.MustCompile(`^[a-z0-9_]+$`)
	sha256Hex    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	envVarName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// scopeToken is RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
	scopeToken = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)
)

func (d *decoder) validate(f *File) {
	if !contains(modes, f.Mode) {
		d.problem("mode", "%s", notValid(f.Mode, modes))
	}
	if _, set := d.origins["login_timeout"]; set && f.LoginTimeout <= 0 && !d.failed("login_timeout") {
		d.problem("login_timeout", "must be longer than zero")
	}
	names := make(map[string]int)
	segments := make(map[string]int)
	for i := range f.Providers {
		path := fmt.Sprintf("providers[%d]", i)
		p := &f.Providers[i]
		d.validateProvider(f, p, path)
		if p.Name == "" || !providerName.MatchString(p.Name) {
			continue
		}
		if j, dup := names[p.Name]; dup {
			d.problem(path+".name", "%q is already the name of providers[%d]%s; names must be unique", p.Name, j, d.where(fmt.Sprintf("providers[%d]", j)))
			continue
		}
		names[p.Name] = i
		seg := envSegment(p.Name)
		if j, dup := segments[seg]; dup {
			d.problem(path+".name", "%q and %q (providers[%d]) share the environment variables %s_%s_*; rename one",
				p.Name, f.Providers[j].Name, j, envProviders, seg)
			continue
		}
		segments[seg] = i
	}
}

// failed reports whether a problem was already recorded for path.
func (d *decoder) failed(path string) bool {
	for _, p := range d.problems {
		if p.Field == path {
			return true
		}
	}
	return false
}

// envHint names the variable that sets a missing field of a provider that
// was added by MCPAUTH_PROVIDERS, where there is no file entry to edit.
func (d *decoder) envHint(p *Provider, path, suffix string) string {
	if d.origin(path).env == "" || !providerName.MatchString(p.Name) {
		return ""
	}
	return "; set " + envProviders + "_" + envSegment(p.Name) + "_" + suffix
}

// where renders " (line N)" or " (from VAR)" for another field's origin.
func (d *decoder) where(path string) string {
	o := d.origin(path)
	switch {
	case o.env != "":
		return " (from " + o.env + ")"
	case o.line > 0:
		return fmt.Sprintf(" (line %d)", o.line)
	}
	return ""
}

func (d *decoder) validateProvider(f *File, p *Provider, path string) {
	if d.failed(path) { // not a mapping: nothing more to say
		return
	}
	switch {
	case p.Name == "":
		if !d.failed(path + ".name") {
			d.problem(path+".name", "required")
		}
	case !providerName.MatchString(p.Name):
		d.problem(path+".name", "%q is not valid; use lower-case letters, digits, \"-\" and \"_\"", p.Name)
	}

	if p.Driver != "" && !contains(drivers, p.Driver) {
		d.problem(path+".driver", "%s", notValid(p.Driver, drivers))
	}

	switch {
	case p.Issuer != "" && p.Resource != "":
		d.problem(path+".resource", "set issuer or resource, not both")
	case p.Issuer == "" && p.Resource == "":
		if !d.failed(path+".issuer") && !d.failed(path+".resource") {
			d.problem(path+".issuer", "required: the authorization server's issuer URL (or resource: an API URL)%s", d.envHint(p, path, "ISSUER"))
		}
	}
	if p.Issuer != "" {
		d.checkURL(path+".issuer", p.Issuer, false)
	}
	if p.Resource != "" {
		d.checkURL(path+".resource", p.Resource, false)
	}

	if p.ClientID == "" && p.ClientIDMetadataDocument == "" && !d.failed(path+".client_id") && !d.failed(path+".client_id_metadata_document") {
		d.problem(path+".client_id", "required (or client_id_metadata_document)%s", d.envHint(p, path, "CLIENT_ID"))
	}
	if p.ClientIDMetadataDocument != "" {
		d.checkURL(path+".client_id_metadata_document", p.ClientIDMetadataDocument, true)
	}

	for i, s := range p.Scopes {
		if !scopeToken.MatchString(s) {
			d.problem(fmt.Sprintf("%s.scopes[%d]", path, i), "%q is not a scope: one word of printable ASCII without quotes or backslashes; list scopes one per item", s)
		}
	}
	if !contains(grants, p.Grant) {
		d.problem(path+".grant", "%s", notValid(p.Grant, grants))
	}
	if !contains(isolations, p.Isolation) {
		d.problem(path+".isolation", "%s", notValid(p.Isolation, isolations))
	}
	for k := range p.Options {
		if !optionName.MatchString(k) {
			d.problem(path+".options."+k, "option names are lower-case letters, digits and \"_\"")
		}
	}

	switch {
	case p.Driver == DriverExternal && p.Plugin == nil:
		d.problem(path+".plugin", "required with driver %q: the plugin's path and sha256", DriverExternal)
	case p.Driver != DriverExternal && p.Plugin != nil:
		d.problem(path+".plugin", "only allowed with driver %q", DriverExternal)
	case p.Plugin != nil && !d.failed(path+".plugin"):
		if p.Isolation == IsolationInProcess {
			d.problem(path+".isolation", "%q is not possible with driver %q: a plugin always runs as a subprocess", IsolationInProcess, DriverExternal)
		}
		d.validatePlugin(f, p.Plugin, path+".plugin")
	}
}

func (d *decoder) validatePlugin(f *File, pl *Plugin, path string) {
	switch {
	case pl.Path == "":
		if !d.failed(path + ".path") {
			d.problem(path+".path", "required: the plugin binary, relative to plugin_dir")
		}
	case f.PluginDir == "":
		d.problem(path+".path", "plugin_dir is not set and there is no default (no user config directory)")
	default:
		if _, ok := insideDir(f.PluginDir, pl.Path); !ok {
			d.problem(path+".path", "%q is outside plugin_dir %s", pl.Path, f.PluginDir)
		}
	}
	switch {
	case pl.SHA256 == "":
		if !d.failed(path + ".sha256") {
			d.problem(path+".sha256", "required: the binary's SHA-256 (sha256sum output)")
		}
	case sha256Hex.MatchString(pl.SHA256):
	case sha256Hex.MatchString(strings.ToLower(pl.SHA256)):
		d.problem(path+".sha256", "write the digest in lower case")
	default:
		d.problem(path+".sha256", "%q is not a SHA-256: want 64 hexadecimal digits (sha256sum output), got %d characters", pl.SHA256, len(pl.SHA256))
	}
	for i, e := range pl.Env {
		if !envVarName.MatchString(e) {
			d.problem(fmt.Sprintf("%s.env[%d]", path, i), "%q is not an environment variable name", e)
		}
	}
}

// insideDir joins dir and path (unless path is absolute) and reports
// whether the result is strictly inside dir, lexically. Resolve checks again
// after following symbolic links.
func insideDir(dir, path string) (string, bool) {
	full := path
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, path)
	}
	full = filepath.Clean(full)
	rel, err := filepath.Rel(dir, full)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return full, true
}

// checkURL checks an issuer, resource or Client ID Metadata Document URL
// with the rules the run time applies (provider.CheckIdentifierURL,
// provider.CheckClientIDMetadataDocumentURL), so a file that loads is never
// refused later; only the wording, with its hints, is the config file's.
func (d *decoder) checkURL(path, raw string, cimd bool) {
	var err error
	if cimd {
		err = provider.CheckClientIDMetadataDocumentURL(raw)
	} else {
		err = provider.CheckIdentifierURL(path, raw)
	}
	var ue *provider.URLError
	if err == nil || !errors.As(err, &ue) {
		if err != nil {
			d.problem(path, "%v", err)
		}
		return
	}
	u := ue.URL // with any password masked
	switch ue.Rule {
	case provider.URLNotParsed:
		d.problem(path, "%q is not a URL", u)
	case provider.URLHTTPNotLoopback:
		d.problem(path, "%q must use https (http is allowed only on loopback: 127.0.0.1, [::1], localhost)", u)
	case provider.URLNotHTTPS:
		d.problem(path, "%q must be an https URL", u)
	case provider.URLNotAbsolute:
		d.problem(path, "%q is not an absolute URL", u)
	case provider.URLUserInfo:
		d.problem(path, "%q must not contain a user name or password", u)
	case provider.URLFragment:
		d.problem(path, "%q must not have a fragment (#…)", u)
	case provider.URLNoPath:
		d.problem(path, "%q needs a path (the document's own URL, such as https://app.example.com/oauth/client.json)", u)
	case provider.URLDotSegment:
		d.problem(path, "%q must not have \".\" or \"..\" path segments (use the document's URL as it is served)", u)
	case provider.URLQuery:
		d.problem(path, "%q must not have a query (?…)", u)
	default:
		d.problem(path, "%q %s", u, ue.Rule)
	}
}

// isLoopback reports whether host is "localhost" or a loopback IP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
