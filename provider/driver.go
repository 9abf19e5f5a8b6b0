package provider

import (
	"context"
	"net/http"
)

// Grant names an OAuth grant a driver can run for an interactive login.
type Grant string

const (
	// GrantDevice is the device authorization grant (RFC 8628).
	GrantDevice Grant = "device"
	// GrantPKCE is the authorization code grant with PKCE S256 and a loopback
	// redirect (RFC 6749 §4.1, RFC 7636, RFC 8252 §7.3).
	GrantPKCE Grant = "pkce"
)

// Grant type identifiers used on the wire (RFC 6749, RFC 8628 §3.4).
const (
	GrantTypeAuthorizationCode = "authorization_code"
	GrantTypeRefreshToken      = "refresh_token"
	GrantTypeDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// Description says what a driver is and what it can do. It is static: it
// needs no network and no token.
type Description struct {
	Name    string // e.g. "oidc", "github"
	Version string
	// ClientID is the OAuth client this driver instance acts for.
	ClientID string
	// Grants lists the interactive grants the driver offers, in the driver's
	// order of preference. A grant missing here is ruled out (Slack has no
	// device grant).
	Grants        []Grant
	DefaultScopes []string
	// Quirks lists, for humans, what the driver does differently from the
	// generic OIDC driver.
	Quirks []string
	// APIs are the API URL prefixes the driver's tokens are for (GitHub:
	// https://api.github.com and https://uploads.github.com). Hosts send a
	// token only to these, the provider's configured apis, and the
	// userinfo endpoint; nil means none built in.
	APIs []string
	// VerificationHosts are hosts besides the issuer's (and its registrable
	// domain) that may appear in a URL shown to the user: Entra's device
	// page is on microsoft.com, not login.microsoftonline.com.
	VerificationHosts []string
	// LoopbackHost is the host the issuer expects in a loopback redirect
	// URI: "localhost" for Slack and Entra, which do not match the IP
	// literal; "" means 127.0.0.1 (RFC 8252 §7.3). A provider's configured
	// loopback_host wins. The listener is on loopback either way.
	LoopbackHost string
	// LoopbackPortFixed says the issuer matches redirect URIs exactly, port
	// included (Okta; Slack pins registered ports): a PKCE login needs a
	// loopback_port, registered with the app, and hosts refuse to start
	// without one rather than fail at login.
	LoopbackPortFixed bool
	// ChallengeStatuses are the HTTP statuses of API responses the driver's
	// Challenge can read a scope challenge from; nil means 401 and 403
	// (RFC 6750 §3.1). GitHub hides what a token may not see behind 404;
	// Slack refuses with 200 and {"ok":false,"error":"missing_scope"}.
	ChallengeStatuses []int
}

// ReadsChallenge reports whether an API response with this status should be
// handed to the driver's Challenge.
func (d Description) ReadsChallenge(status int) bool {
	if d.ChallengeStatuses == nil {
		return status == 401 || status == 403
	}
	for _, s := range d.ChallengeStatuses {
		if s == status {
			return true
		}
	}
	return false
}

// Offers reports whether the description lists g.
func (d Description) Offers(g Grant) bool {
	for _, x := range d.Grants {
		if x == g {
			return true
		}
	}
	return false
}

// A Driver knows one kind of issuer. Everything beyond Describe and Metadata
// is an optional capability, asserted by type: DeviceAuthorizer,
// CodeExchanger, Refresher, Challenger, Identifier, Revoker.
//
// Implementations must be safe for concurrent use.
type Driver interface {
	Describe() Description
	// Metadata returns the authorization-server metadata the driver works
	// against, discovered or static.
	Metadata(ctx context.Context) (*AuthServerMetadata, error)
}

// DeviceAuthorizer runs the device authorization grant (RFC 8628). The host
// owns the polling loop (see DevicePoller): each method makes exactly one
// HTTP request.
type DeviceAuthorizer interface {
	StartDevice(ctx context.Context, scopes []string) (*DeviceAuthorization, error)
	// PollDevice makes one token request. While the user has not approved it
	// returns an error matching ErrAuthorizationPending or ErrSlowDown.
	PollDevice(ctx context.Context, da *DeviceAuthorization) (*Token, error)
}

// AuthCodeRequest is what goes into an authorization request URL.
type AuthCodeRequest struct {
	State         string
	CodeChallenge string // S256 challenge (RFC 7636 §4.2)
	RedirectURI   string
	Scopes        []string
}

// CodeExchanger runs the authorization code grant with PKCE.
type CodeExchanger interface {
	AuthCodeURL(ctx context.Context, req AuthCodeRequest) (string, error)
	Exchange(ctx context.Context, code, verifier, redirectURI string) (*Token, error)
}

// Refresher renews a token with its refresh token (RFC 6749 §6). The returned
// token carries the new refresh token if the server rotated it.
type Refresher interface {
	Refresh(ctx context.Context, t *Token) (*Token, error)
}

// Revoker tells the authorization server to revoke a token (RFC 7009), on
// logout: the refresh token first, so the grant cannot mint new access
// tokens, then the access token. A server that answers 200 has revoked the
// token or found it already invalid (RFC 7009 §2.2); either way it is dead.
// An access token the server cannot revoke (unsupported_token_type: a
// self-contained JWT, say) is left to expire. Without a revocation_endpoint
// Revoke answers an error matching ErrRevocationUnsupported, and the host
// only forgets the token.
type Revoker interface {
	Revoke(ctx context.Context, t *Token) error
}

// Challenger reads an API response that refused a token and says which
// scopes or permissions it asks for. ok is false when the response is not a
// scope challenge (an expired or revoked token, say).
type Challenger interface {
	Challenge(resp APIResponse) (c *ScopeChallenge, ok bool)
}

// ClientRebinder is implemented by drivers that can act for another client
// ID, for Client ID Metadata Document passthrough: a host hands mcpauth its
// CIMD URL, which is used as client_id where the authorization server
// advertises client_id_metadata_document_supported.
type ClientRebinder interface {
	WithClientID(clientID string) (Driver, error)
}

// Identifier says who a token belongs to.
type Identifier interface {
	Identity(ctx context.Context, t *Token) (*Identity, error)
}

// APIResponse summarises a resource server's reply for Challenge: status,
// headers and the head of the body (at most a few KiB).
type APIResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// ScopeChallenge is what an API asked for when it refused a token.
type ScopeChallenge struct {
	// Scopes are the OAuth scopes to add to the next authorization.
	Scopes []string
	// Permissions are issuer permissions that cannot be requested as scopes
	// (GitHub App permissions such as "contents=read"); the user must change
	// the app's settings. Alternatives, if any, are listed one per entry.
	Permissions []string
	// Description is a human-readable reason from the server, if any.
	Description string
}

// Identity is who logged in. It is shown to the user; it holds no secret.
type Identity struct {
	Subject     string
	DisplayName string
}
