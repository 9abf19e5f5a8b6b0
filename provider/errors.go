package provider

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors. Protocol failures arrive as *OAuthError, which matches the
// sentinel for its RFC error code under errors.Is.
var (
	// ErrAuthorizationPending: the user has not yet approved the device
	// authorization (RFC 8628 §3.5). The device poller keeps polling.
	ErrAuthorizationPending = errors.New("provider: authorization pending")
	// ErrSlowDown: the device poller must add 5 s to its interval (RFC 8628 §3.5).
	ErrSlowDown = errors.New("provider: slow down")
	// ErrExpiredToken: the device code expired before the user approved it.
	ErrExpiredToken = errors.New("provider: device code expired before the user approved it")
	// ErrAccessDenied: the user (or the authorization server) refused the authorization.
	ErrAccessDenied = errors.New("provider: access denied")
	// ErrInvalidGrant: a code, device code or refresh token was rejected (RFC 6749 §5.2).
	ErrInvalidGrant = errors.New("provider: grant rejected")
	// ErrInvalidClient: the authorization server does not accept this client
	// for the request (invalid_client, unauthorized_client).
	ErrInvalidClient = errors.New("provider: client rejected")
	// ErrInsufficientScope: the token lacks a scope or permission the API wants.
	ErrInsufficientScope = errors.New("provider: insufficient scope")

	// ErrGrantUnsupported: the driver or the authorization server does not offer the grant.
	ErrGrantUnsupported = errors.New("provider: grant not supported")
	// ErrRevocationUnsupported: the driver or the authorization server offers
	// no token revocation (RFC 7009); a logout can only forget the token.
	ErrRevocationUnsupported = errors.New("provider: token revocation not supported")
	// ErrPKCEUnsupported: the authorization server does not list S256 among its
	// code challenge methods; mcpauth never falls back to "plain".
	ErrPKCEUnsupported = errors.New("provider: authorization server does not support PKCE S256")
	// ErrLoopbackUnavailable: the PKCE login could not start (no listener,
	// no S256); with grant preference auto the login falls back to the device grant.
	ErrLoopbackUnavailable = errors.New("provider: loopback login unavailable")
	// ErrStateMismatch: the redirect carried a state this login did not issue.
	ErrStateMismatch = errors.New("provider: state mismatch in authorization response")
	// ErrIssuerMismatch: the authorization response or a metadata document names
	// another issuer than the one in use (mix-up protection, RFC 9207, RFC 8414 §3.3).
	ErrIssuerMismatch = errors.New("provider: issuer mismatch")
	// ErrLoginTimeout: the user did not complete the browser login in time.
	ErrLoginTimeout = errors.New("provider: login timed out")
	// ErrNoToken: there is no token for the key; a login is needed.
	ErrNoToken = errors.New("provider: no token; login required")
	// ErrRefreshFailed: the refresh failed and the token was dropped; the next
	// call must log in again.
	ErrRefreshFailed = errors.New("provider: refresh failed; login required")
)

// codeSentinels maps RFC 6749 §5.2 and RFC 8628 §3.5 error codes to sentinels.
var codeSentinels = map[string]error{
	"authorization_pending":  ErrAuthorizationPending,
	"slow_down":              ErrSlowDown,
	"expired_token":          ErrExpiredToken,
	"access_denied":          ErrAccessDenied,
	"invalid_grant":          ErrInvalidGrant,
	"invalid_client":         ErrInvalidClient,
	"unauthorized_client":    ErrInvalidClient,
	"unsupported_grant_type": ErrGrantUnsupported,
	"insufficient_scope":     ErrInsufficientScope,
}

// OAuthError is an error response from an authorization server: the RFC 6749
// §5.2 fields (also used by RFC 8628 and by the authorization redirect, §4.1.2.1).
type OAuthError struct {
	// Endpoint names where the error came from: "token", "device_authorization",
	// "authorization" (the redirect), or a driver-specific name.
	Endpoint    string
	Code        string // error
	Description string // error_description
	URI         string // error_uri
	// StatusCode is the HTTP status; 0 for errors carried by a redirect.
	// Some issuers (GitHub) answer errors with 200.
	StatusCode int
	// Interval is the new polling interval a server sent with slow_down
	// (GitHub does); zero when it sent none.
	Interval time.Duration
}

func (e *OAuthError) Error() string {
	var b strings.Builder
	b.WriteString("provider: ")
	if e.Endpoint != "" {
		b.WriteString(e.Endpoint)
		b.WriteString(" endpoint: ")
	}
	b.WriteString(e.Code)
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	if e.URI != "" {
		fmt.Fprintf(&b, " (see %s)", e.URI)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " [HTTP %d]", e.StatusCode)
	}
	return b.String()
}

// Is reports whether the error code corresponds to target, so callers can
// write errors.Is(err, provider.ErrAccessDenied).
func (e *OAuthError) Is(target error) bool {
	s, ok := codeSentinels[e.Code]
	return ok && s == target
}

// IsTransient reports whether err from a token request is a failure to get
// an answer rather than an answer: RFC 8628 §3.5 asks the client to back off
// and poll again after a connection timeout, and a server failure (HTTP 5xx)
// says nothing about the authorization either. Transient, exactly:
//
//   - a net.Error whose Timeout() is true (dial, TLS or response timeouts,
//     http.Client.Timeout, a per-request context deadline);
//   - syscall.ECONNRESET (the connection was reset) and io.ErrUnexpectedEOF
//     (the response was cut off);
//   - a *OAuthError with StatusCode >= 500, whatever its code
//     (drivers report an unparseable 5xx page as invalid_response), or with
//     the code temporarily_unavailable (RFC 6749 §4.1.2.1).
//
// An error matching ErrAccessDenied, ErrExpiredToken,
// ErrInvalidGrant or ErrInvalidClient is never transient, even with a 5xx
// status: those are the server's final word. Anything else, context.Canceled
// included, is not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	for _, final := range []error{ErrAccessDenied, ErrExpiredToken, ErrInvalidGrant, ErrInvalidClient} {
		if errors.Is(err, final) {
			return false
		}
	}
	var oe *OAuthError
	if errors.As(err, &oe) {
		return oe.StatusCode >= 500 || oe.Code == "temporarily_unavailable"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)
}
