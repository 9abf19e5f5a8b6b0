package provider

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// AuthServerMetadata is OAuth 2.0 authorization-server metadata (RFC 8414 §2),
// the fields mcpauth uses, plus the OpenID Connect discovery fields it needs.
type AuthServerMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint,omitempty"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                                    string   `json:"jwks_uri,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	ClientIDMetadataDocumentSupported          bool     `json:"client_id_metadata_document_supported,omitempty"`
	DPoPSigningAlgValuesSupported              []string `json:"dpop_signing_alg_values_supported,omitempty"`

	// Source is the URL the document was fetched from; empty for static metadata.
	Source string `json:"-"`
}

// SupportsGrantType reports whether the server lists the grant type. RFC 8414
// §2: an absent grant_types_supported means ["authorization_code", "implicit"];
// the device grant is then inferred from a device_authorization_endpoint.
func (m *AuthServerMetadata) SupportsGrantType(gt string) bool {
	if len(m.GrantTypesSupported) > 0 {
		return slices.Contains(m.GrantTypesSupported, gt)
	}
	switch gt {
	case GrantTypeAuthorizationCode:
		return true
	case GrantTypeDeviceCode:
		return m.DeviceAuthorizationEndpoint != ""
	}
	return false
}

// Offers reports whether the server can run the interactive grant g.
func (m *AuthServerMetadata) Offers(g Grant) bool {
	switch g {
	case GrantDevice:
		return m.DeviceAuthorizationEndpoint != "" && m.TokenEndpoint != ""
	case GrantPKCE:
		return m.AuthorizationEndpoint != "" && m.TokenEndpoint != "" &&
			m.SupportsGrantType(GrantTypeAuthorizationCode)
	}
	return false
}

// Validate checks what every driver relies on: an issuer that is an https URL
// without query or fragment (RFC 8414 §2), and endpoints that are absolute
// https URLs. http is allowed only on a loopback host and only when the
// issuer itself is on loopback (a local server, RFC 8252 §8.3): a remote
// issuer naming an http://127.0.0.1 endpoint would send codes and tokens to
// whatever listens on the user's machine, unencrypted.
func (m *AuthServerMetadata) Validate() error {
	if m.Issuer == "" {
		return fmt.Errorf("provider: metadata has no issuer")
	}
	if err := CheckIdentifierURL("issuer", m.Issuer); err != nil {
		return err
	}
	iu, _ := url.Parse(m.Issuer) // parsed by CheckIdentifierURL
	localIssuer := IsLoopbackHost(iu.Hostname())
	for _, e := range []struct{ name, url string }{
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint},
		{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint},
		{"revocation_endpoint", m.RevocationEndpoint},
		{"userinfo_endpoint", m.UserinfoEndpoint},
		{"jwks_uri", m.JWKSURI},
	} {
		if e.url == "" {
			continue
		}
		if err := CheckEndpointURL(e.name, e.url); err != nil {
			return err
		}
		if u, _ := url.Parse(e.url); u.Scheme == "http" && !localIssuer {
			return &URLError{Name: e.name, URL: e.url, Rule: URLHTTPForRemoteIssuer}
		}
	}
	return nil
}

// URLRule names the rule a URL broke. Callers that phrase their own
// messages (the config file, the SDK) switch on it; the rules themselves
// live only here, so every call site accepts and refuses the same URLs.
type URLRule string

// The URL rules, in the order they are checked.
const (
	URLNotParsed       URLRule = "is not a URL"
	URLNotHTTPS        URLRule = "must use https"
	URLHTTPNotLoopback URLRule = "must use https (http is allowed only on loopback)"
	URLNotAbsolute     URLRule = "is not an absolute URL"
	URLUserInfo        URLRule = "must not contain a user name or password"
	URLFragment        URLRule = "must not have a fragment"
	URLNoPath          URLRule = "needs a path"
	URLDotSegment      URLRule = "must not have \".\" or \"..\" path segments"
	URLQuery           URLRule = "must not have a query"
	// URLHTTPForRemoteIssuer: an http (loopback) endpoint in the metadata
	// of an issuer that is not itself on loopback.
	URLHTTPForRemoteIssuer URLRule = "must use https (http on loopback is allowed only for an issuer on loopback)"
)

// URLError reports a URL that breaks a rule. URL has any password masked.
type URLError struct {
	Name string // what the URL is for: "issuer", "token_endpoint", …
	URL  string
	Rule URLRule
	Err  error // the parse error for URLNotParsed
}

func (e *URLError) Error() string {
	msg := fmt.Sprintf("provider: %s %q %s", e.Name, e.URL, e.Rule)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *URLError) Unwrap() error { return e.Err }

// urlKind selects the rules checkURL applies on top of the common ones.
type urlKind int

const (
	kindEndpoint   urlKind = iota // an endpoint: https, or http on loopback
	kindIdentifier                // an issuer or resource: an endpoint without query
	kindDocument                  // a client ID metadata document URL
)

// CheckEndpointURL refuses a URL that is not absolute https, except http on
// a loopback address (127.0.0.0/8, ::1, localhost) for local servers, and
// one with credentials or a fragment (RFC 6749 §3.1, §3.2). A query is
// allowed (RFC 6749 §3.1). It returns a *URLError.
func CheckEndpointURL(name, raw string) error { return checkURL(name, raw, kindEndpoint) }

// CheckIdentifierURL is CheckEndpointURL for an issuer identifier (RFC 8414
// §2: no query, no fragment) or a protected resource identifier (RFC 9728
// §1.2, RFC 8707 §2: no fragment, and no query, so the well-known URL built
// from it by path insertion, RFC 9728 §3.1, is unambiguous).
func CheckIdentifierURL(name, raw string) error { return checkURL(name, raw, kindIdentifier) }

// CheckClientIDMetadataDocumentURL checks that raw can be a client_id under
// draft-ietf-oauth-client-id-metadata-document §3: an https URL (never http,
// loopback included) with a path, without "." or ".." path segments, a
// fragment or credentials; a query is allowed. It returns a *URLError.
func CheckClientIDMetadataDocumentURL(raw string) error {
	return checkURL("client ID metadata document URL", raw, kindDocument)
}

func checkURL(name, raw string, kind urlKind) error {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue repeats the raw URL
		}
		return &URLError{Name: name, URL: raw, Rule: URLNotParsed, Err: err}
	}
	fail := func(r URLRule) error { return &URLError{Name: name, URL: u.Redacted(), Rule: r} }
	if u.Scheme == "" && u.Host == "" {
		return fail(URLNotAbsolute) // "not a url", "/path": no scheme to judge
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && kind != kindDocument:
		if !IsLoopbackHost(u.Hostname()) {
			return fail(URLHTTPNotLoopback)
		}
	default:
		return fail(URLNotHTTPS)
	}
	switch {
	case u.Host == "" || u.Opaque != "":
		return fail(URLNotAbsolute)
	case u.User != nil:
		return fail(URLUserInfo)
	// url.Parse leaves Fragment empty for a bare "#"; a "#" can only be the
	// fragment delimiter in a parsed URL.
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fail(URLFragment)
	}
	switch kind {
	case kindDocument:
		if u.Path == "" || u.Path == "/" {
			return fail(URLNoPath)
		}
		// u.Path is unescaped, so %2e%2e counts as "..".
		if slices.ContainsFunc(strings.Split(u.Path, "/"), func(s string) bool { return s == "." || s == ".." }) {
			return fail(URLDotSegment)
		}
	case kindIdentifier:
		if u.RawQuery != "" || u.ForceQuery {
			return fail(URLQuery)
		}
	}
	return nil
}

// IsLoopbackHost reports whether host is "localhost" or a loopback IP.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ProtectedResourceMetadata is OAuth 2.0 protected-resource metadata
// (RFC 9728 §2): which authorization servers issue tokens for an API.
type ProtectedResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers,omitempty"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	ResourceName           string   `json:"resource_name,omitempty"`
	ResourceDocumentation  string   `json:"resource_documentation,omitempty"`

	// Source is the URL the document was fetched from.
	Source string `json:"-"`
}
