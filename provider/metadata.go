package provider

import (
	"fmt"
	"net"
	"net/url"
	"slices"
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

// Validate checks what every driver relies on: an issuer, and endpoints that
// are absolute https URLs, or http on a loopback host (RFC 8414 §2, RFC 8252 §8.3).
func (m *AuthServerMetadata) Validate() error {
	if m.Issuer == "" {
		return fmt.Errorf("provider: metadata has no issuer")
	}
	if err := CheckEndpointURL("issuer", m.Issuer); err != nil {
		return err
	}
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
	}
	return nil
}

// CheckEndpointURL refuses a URL that is not absolute https, except http on
// a loopback address (127.0.0.0/8, ::1, localhost) for local servers.
func CheckEndpointURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("provider: %s %q is not a URL: %w", name, raw, err)
	}
	if u.Host == "" {
		return fmt.Errorf("provider: %s %q is not an absolute URL", name, raw)
	}
	if u.Fragment != "" {
		return fmt.Errorf("provider: %s %q must not have a fragment", name, raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("provider: %s %q must use https (http is allowed only on loopback)", name, raw)
	}
	return fmt.Errorf("provider: %s %q must use https", name, raw)
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
