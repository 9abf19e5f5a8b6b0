package provider

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Token is an OAuth token set held in memory. Its secret fields never print:
// String, Format and LogValue redact them, so a token passed to a logger or
// fmt by mistake shows only its shape.
type Token struct {
	AccessToken  string
	TokenType    string // "Bearer" unless the server says otherwise
	RefreshToken string
	IDToken      string
	// Expiry is when the access token expires; zero if the server gave no
	// expires_in (GitHub OAuth App tokens do not expire).
	Expiry time.Time
	// Scopes are the scopes granted. RFC 6749 §5.1: a server may omit scope
	// when it granted exactly what was asked; the grant engines then fill in
	// the requested scopes.
	Scopes []string
}

// expiryLeeway is how long before Expiry a token counts as expired, so a
// token is not sent in the last seconds of its life and refused in flight.
const expiryLeeway = 30 * time.Second

// ValidAt reports whether the access token is present and not about to expire at now.
func (t *Token) ValidAt(now time.Time) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	return t.Expiry.IsZero() || now.Add(expiryLeeway).Before(t.Expiry)
}

// HasScopes reports whether every scope in want was granted.
func (t *Token) HasScopes(want []string) bool {
	for _, s := range want {
		if !slices.Contains(t.Scopes, s) {
			return false
		}
	}
	return true
}

// String describes the token without its secrets.
func (t Token) String() string {
	var b strings.Builder
	b.WriteString("Token{")
	fmt.Fprintf(&b, "type=%s", t.TokenType)
	fmt.Fprintf(&b, " access=%s refresh=%s id=%s", redact(t.AccessToken), redact(t.RefreshToken), redact(t.IDToken))
	if !t.Expiry.IsZero() {
		fmt.Fprintf(&b, " expiry=%s", t.Expiry.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, " scopes=%v}", t.Scopes)
	return b.String()
}

// Format makes every fmt verb (%v, %+v, %#v, %s) print String.
func (t Token) Format(f fmt.State, _ rune) { fmt.Fprint(f, t.String()) }

// LogValue keeps secrets out of slog output.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", t.TokenType),
		slog.Bool("refreshable", t.RefreshToken != ""),
		slog.Time("expiry", t.Expiry),
		slog.Any("scopes", t.Scopes),
	)
}

func redact(s string) string {
	if s == "" {
		return "none"
	}
	return "[redacted]"
}

// DeviceAuthorization is a device authorization response (RFC 8628 §3.2).
type DeviceAuthorization struct {
	// DeviceCode is a credential: it is redacted when printed.
	DeviceCode string
	// UserCode is what the user types at VerificationURI. It is meant to be shown.
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string // optional: the URI with the user code embedded
	// ExpiresAt is when the device code expires (from expires_in).
	ExpiresAt time.Time
	// Interval is the minimum polling interval; zero when the server sent
	// none, and the poller then uses 5 s (RFC 8628 §3.2).
	Interval time.Duration
	// Scopes are the scopes requested.
	Scopes []string
}

// String describes the authorization without the device code.
func (d DeviceAuthorization) String() string {
	return fmt.Sprintf("DeviceAuthorization{user_code=%s verification_uri=%s expires=%s interval=%s device_code=%s}",
		d.UserCode, d.VerificationURI, d.ExpiresAt.Format(time.RFC3339), d.Interval, redact(d.DeviceCode))
}

// Format makes every fmt verb print String.
func (d DeviceAuthorization) Format(f fmt.State, _ rune) { fmt.Fprint(f, d.String()) }

// LogValue keeps the device code out of slog output.
func (d DeviceAuthorization) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user_code", d.UserCode),
		slog.String("verification_uri", d.VerificationURI),
		slog.Time("expires", d.ExpiresAt),
		slog.Duration("interval", d.Interval),
	)
}
