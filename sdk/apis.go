package sdk

import (
	"net/url"
	"strings"

	"github.com/mcpauth/mcpauth/provider"
)

// apiPrefix is one place a provider's token may be sent: a scheme and host
// (with port) matched exactly, and a path prefix matched at a segment
// boundary.
type apiPrefix struct {
	scheme, host, path string
}

func parseAPIPrefix(raw string) (apiPrefix, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return apiPrefix{}, false
	}
	return apiPrefix{scheme: u.Scheme, host: strings.ToLower(u.Host), path: strings.TrimSuffix(u.EscapedPath(), "/")}, true
}

func (a apiPrefix) String() string { return a.scheme + "://" + a.host + a.path }

// matches reports whether u lies under the prefix.
func (a apiPrefix) matches(u *url.URL) bool {
	if u.Scheme != a.scheme || strings.ToLower(u.Host) != a.host {
		return false
	}
	p := u.EscapedPath()
	return a.path == "" || p == a.path || strings.HasPrefix(p, a.path+"/")
}

// apiPrefixes is where p's token may go once d issued it: the provider's
// configured apis (config apis:, an RFC 9728 resource), the APIs the driver
// declares, and the authorization server's userinfo endpoint (OpenID
// Connect Core §5.3: it takes the access token). Nothing else: a tool's
// request to any other URL is refused before the token is attached.
func (p *providerState) apiPrefixes(d provider.Driver, meta *provider.AuthServerMetadata) []apiPrefix {
	raw := append([]string{}, p.cfg.APIs...)
	if p.cfg.Resource != "" {
		raw = append(raw, p.cfg.Resource)
	}
	raw = append(raw, d.Describe().APIs...)
	if meta.UserinfoEndpoint != "" {
		raw = append(raw, meta.UserinfoEndpoint)
	}
	var out []apiPrefix
	for _, r := range raw {
		if a, ok := parseAPIPrefix(r); ok {
			out = append(out, a)
		}
	}
	return out
}

// allowedAPI reports whether u is one of p's API origins.
func (p *providerState) allowedAPI(u *url.URL) (bool, []apiPrefix) {
	p.mu.Lock()
	apis := p.apis
	p.mu.Unlock()
	for _, a := range apis {
		if a.matches(u) {
			return true, apis
		}
	}
	return false, apis
}
