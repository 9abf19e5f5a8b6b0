package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/mcpauth/mcpauth/provider"
)

// Valid values, in documentation order.
var (
	modes         = []string{ModeLazy, ModeExplicit}
	grants        = []string{GrantAuto, GrantDevice, GrantPKCE}
	isolations    = []string{IsolationSubprocess, IsolationInProcess}
	stores        = []string{StoreMemory, StoreKeychain, StoreFile}
	loopbackHosts = []string{LoopbackIPv4, LoopbackLocalhost, LoopbackIPv6}
)

// reservedParams are the request parameters mcpauth sets itself, which
// extra_params must not replace (RFC 6749 §4.1, §6; RFC 7636 §4.3; RFC 8628
// §3.1, §3.4), each with the key that sets it, if any.
var reservedParams = map[string]string{
	"client_id":             "client_id",
	"client_secret":         "client_secret",
	"code":                  "",
	"code_challenge":        "",
	"code_challenge_method": "",
	"code_verifier":         "",
	"device_code":           "",
	"grant_type":            "grant",
	"redirect_uri":          "loopback_host and loopback_port",
	"refresh_token":         "",
	"response_type":         "",
	"scope":                 "scopes",
	"state":                 "",
}

// Patterns shared with the JSON Schema (a test checks they agree).
var (
	providerName = regexp.MustCompile(`^[a-z0-9_-]+$`)
	driverName   = regexp.MustCompile(`^[a-z0-9_-]+$`)
	optionName   = regexp.MustCompile(`^[a-z0-9_]+$`)
	// hostPort is a host name or IPv4 address, or an IPv6 address in
	// brackets, with an optional port; checkHost checks more.
	hostPort   = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$`)
	sha256Hex  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	envVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// scopeToken is RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
	scopeToken = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)
)

func (d *decoder) validate(f *File) {
	if !contains(modes, f.Mode) {
		d.problem("mode", "%s", notValid(f.Mode, modes))
	}
	if !contains(stores, f.Store) {
		d.problem("store", "%s", notValid(f.Store, stores))
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
// was added by MCPAUTH_PROVIDERS or declared in the server's code, where
// there is no file entry to edit.
func (d *decoder) envHint(p *Provider, path, suffix string) string {
	o := d.origin(path)
	if (o.env == "" && !o.dflt) || !providerName.MatchString(p.Name) {
		return ""
	}
	v := envProviders + "_" + envSegment(p.Name) + "_" + suffix
	if o.dflt {
		return "; set it in the config file or " + v
	}
	return "; set " + v
}

// where renders " (line N)" or " (from VAR)" for another field's origin.
func (d *decoder) where(path string) string {
	o := d.origin(path)
	switch {
	case o.env != "":
		return " (from " + o.env + ")"
	case o.dflt:
		return " (server default)"
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

	d.validateDriver(p.Driver, path+".driver")
	if strings.ContainsFunc(p.DisplayName, unicode.IsControl) {
		d.problem(path+".display_name", "%q contains a control character (a line break, say); write it on one line", p.DisplayName)
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
		d.checkURL(path+".issuer", p.Issuer, serverURL)
	}
	if p.Resource != "" {
		d.checkURL(path+".resource", p.Resource, serverURL)
	}

	if p.ClientID == "" && p.ClientIDMetadataDocument == "" && !d.failed(path+".client_id") && !d.failed(path+".client_id_metadata_document") {
		d.problem(path+".client_id", "required (or client_id_metadata_document)%s", d.envHint(p, path, "CLIENT_ID"))
	}
	if p.ClientIDMetadataDocument != "" {
		d.checkURL(path+".client_id_metadata_document", p.ClientIDMetadataDocument, cimdURL)
	}
	if p.ClientSecret != "" && strings.ContainsFunc(p.ClientSecret, unicode.IsSpace) {
		// Never quote it: the value is a credential.
		d.problem(path+".client_secret", "contains white space (a line break when copied?); the value is not shown")
	}

	for i, s := range p.Scopes {
		if !scopeToken.MatchString(s) {
			d.problem(fmt.Sprintf("%s.scopes[%d]", path, i), "%q is not a scope: one word of printable ASCII without quotes or backslashes; list scopes one per item", s)
		}
	}
	if !contains(grants, p.Grant) {
		d.problem(path+".grant", "%s", notValid(p.Grant, grants))
	}
	if p.LoopbackHost != "" && !contains(loopbackHosts, p.LoopbackHost) {
		d.problem(path+".loopback_host", "%s", notValid(p.LoopbackHost, loopbackHosts))
	}
	if !contains(isolations, p.Isolation) {
		d.problem(path+".isolation", "%s", notValid(p.Isolation, isolations))
	}
	// A store inherited from the top level is reported there, once.
	if !contains(stores, p.Store) && p.Store != f.Store {
		d.problem(path+".store", "%s", notValid(p.Store, stores))
	}
	for _, k := range sortedKeys(p.Options) {
		if !optionName.MatchString(k) {
			d.problem(path+".options."+k, "option names are lower-case letters, digits and \"_\"")
		}
	}
	for i, a := range p.APIs {
		d.checkURL(fmt.Sprintf("%s.apis[%d]", path, i), a, serverURL)
	}
	for i, h := range p.VerificationHosts {
		d.checkHost(fmt.Sprintf("%s.verification_hosts[%d]", path, i), h)
	}
	for _, e := range endpointKeys {
		if v := *e.field(&p.Endpoints); v != "" {
			d.checkEndpoint(path+".endpoints."+e.key, v)
		}
	}
	for _, k := range sortedKeys(p.ExtraParams) {
		sub := path + ".extra_params." + k
		key, reserved := reservedParams[k]
		switch {
		case !optionName.MatchString(k):
			d.problem(sub, "parameter names are lower-case letters, digits and \"_\"")
		case reserved && key != "":
			d.problem(sub, "mcpauth sets %s itself; use %s", k, key)
		case reserved:
			d.problem(sub, "mcpauth sets %s itself", k)
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

// validateDriver checks a driver name: DriverExternal, or one of the
// registry's (LoadOptions.Drivers), or, when those are not given, any
// well-formed name (the registry then refuses one it does not know).
func (d *decoder) validateDriver(name, path string) {
	switch {
	case name == "" || name == DriverExternal:
	case d.drivers != nil:
		if valid := append(slices.Clone(d.drivers), DriverExternal); !contains(valid, name) {
			d.problem(path, "%s", notValid(name, valid))
		}
	case !driverName.MatchString(name):
		d.problem(path, "%q is not a driver name: lower-case letters, digits, \"-\" and \"_\"", name)
	}
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
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

// What a URL is for, in checkURL.
type urlKind int

const (
	// serverURL is an issuer, a resource or an API: no query (RFC 8414
	// §2, RFC 9728 §2).
	serverURL urlKind = iota
	// cimdURL is a Client ID Metadata Document: https only, with a path
	// (SEP-991).
	cimdURL
	// endpointURL is an endpoint override: a query is allowed (RFC 6749
	// §3.1).
	endpointURL
)

// checkURL checks an issuer, resource, API, endpoint or Client ID Metadata
// Document URL with the rules the run time applies (provider.CheckIdentifierURL,
// CheckEndpointURL, CheckClientIDMetadataDocumentURL), so a file that loads is never
// refused later; only the wording, with its hints, is the config file's.
func (d *decoder) checkURL(path, raw string, kind urlKind) {
	var err error
	switch kind {
	case cimdURL:
		err = provider.CheckClientIDMetadataDocumentURL(raw)
	case endpointURL:
		err = provider.CheckEndpointURL(path, raw)
	default:
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
		// Neither part is quoted: a user name may be a token too.
		d.problem(path, "%q must not contain a user name or password", withoutUser(raw))
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

// withoutUser renders raw with its user info replaced by "…".
func withoutUser(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL with user info)"
	}
	u.User = nil
	s := u.String()
	if i := strings.Index(s, "//"); i >= 0 {
		s = s[:i+2] + "…@" + s[i+2:]
	}
	return s
}

// checkEndpoint checks an endpoint override: an absolute URL, https (http
// on a loopback host), without user info or fragment (RFC 6749 §3.1), or a
// path starting with "/" on the issuer's origin.
func (d *decoder) checkEndpoint(path, raw string) {
	if !strings.HasPrefix(raw, "/") {
		if u, err := url.Parse(raw); err == nil && u.Scheme == "" {
			d.problem(path, "%q is neither an absolute URL nor a path starting with \"/\"", raw)
			return
		}
		d.checkURL(path, raw, endpointURL)
		return
	}
	switch {
	case strings.HasPrefix(raw, "//"):
		d.problem(path, "%q starts with \"//\", which names another host; write an absolute URL or a path with one \"/\"", raw)
	case strings.Contains(raw, "#"):
		d.problem(path, "%q must not have a fragment (#…)", raw)
	case strings.ContainsFunc(raw, unicode.IsSpace):
		d.problem(path, "%q contains white space", raw)
	}
}

// checkHost checks a verification host: a host name or IP address with an
// optional port, not a URL.
func (d *decoder) checkHost(path, h string) {
	if strings.Contains(h, "/") {
		if u, err := url.Parse(h); err == nil && u.Host != "" && u.User == nil {
			d.problem(path, "%q is a URL; give its host alone: %q", h, u.Host)
		} else {
			d.problem(path, "%q is not a host: want a host name or IP address, with an optional \":port\"", h)
		}
		return
	}
	if !hostPort.MatchString(h) {
		switch {
		case hostPort.MatchString(strings.ToLower(h)):
			d.problem(path, "%q: write host names in lower case", h)
		case strings.Count(h, ":") > 1 && net.ParseIP(h) != nil:
			d.problem(path, "%q: write an IPv6 address in brackets: \"[%s]\"", h, h)
		case strings.Contains(h, "*"):
			d.problem(path, "%q: wildcards are not supported; list each host", h)
		default:
			d.problem(path, "%q is not a host: want a host name or IP address, with an optional \":port\"", h)
		}
		return
	}
	host, port := h, ""
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
		host, port = h[:i], h[i+1:]
	}
	if ip, ok := strings.CutPrefix(host, "["); ok {
		if a := net.ParseIP(strings.TrimSuffix(ip, "]")); a == nil || a.To4() != nil {
			d.problem(path, "%q: %s is not an IPv6 address", h, host)
			return
		}
	}
	if n, err := strconv.Atoi(port); port != "" && (err != nil || n < 1 || n > 65535) {
		d.problem(path, "%q: the port must be 1 to 65535", h)
	}
}
