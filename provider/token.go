package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Token is an OAuth token set held in memory. Its secret fields never print:
// String, Format, LogValue and MarshalJSON redact them, so a token passed to
// fmt, a slog handler (text or JSON) or encoding/json by mistake, alone or
// inside a struct, slice or map, shows only its shape.
//
// fmt cannot call methods on unexported struct fields: a Token held in an
// unexported field of another type prints raw under %v. Hold tokens in
// exported fields or behind a type with its own String.
type Token struct {
	AccessToken  string
	TokenType    string // "Bearer" unless the server says otherwise
	RefreshToken string
	IDToken      string
	// Expiry is when the access token expires; zero if the server gave no
	// expires_in (GitHub OAuth App tokens do not expire).
	Expiry time.Time
	// IssuedAt is when the host obtained the token (the token store sets
	// it); zero if unknown. It only shortens the expiry leeway of
	// short-lived tokens (ValidAt).
	IssuedAt time.Time
	// Scopes are the scopes granted. RFC 6749 §5.1: a server may omit scope
	// when it granted exactly what was asked; the grant engines then fill in
	// the requested scopes.
	Scopes []string
}

// expiryLeeway is how long before Expiry a token counts as expired, so a
// token is not sent in the last seconds of its life and refused in flight.
const expiryLeeway = 30 * time.Second

// ValidAt reports whether the access token is present and not about to
// expire at now. The leeway is 30 s, or half the token's lifetime when that
// is shorter (from IssuedAt, when known): a token that lives 30 s or less
// would otherwise never count as valid and be refreshed on every use.
func (t *Token) ValidAt(now time.Time) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	if t.Expiry.IsZero() {
		return true
	}
	leeway := expiryLeeway
	if !t.IssuedAt.IsZero() {
		leeway = min(leeway, t.Expiry.Sub(t.IssuedAt)/2)
	}
	return now.Add(leeway).Before(t.Expiry)
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

// redactedMarker stands in for a secret in JSON output.
const redactedMarker = "[redacted]"

// errRedactedJSON: a token's JSON form carries no secret, so decoding one
// back would yield a token that looks valid and is not.
var errRedactedJSON = errors.New("provider: the JSON form of a token or device authorization is redacted and cannot be decoded; keep tokens in memory or use a store that serializes them explicitly")

// tokenJSON is what a Token marshals to: the RFC 6749 §5.1 member names, the
// non-secret fields as they are, and "[redacted]" for each secret present
// (absent when empty), so a log shows whether a refresh token exists.
type tokenJSON struct {
	TokenType    string    `json:"token_type,omitempty"`
	AccessToken  string    `json:"access_token,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	IDToken      string    `json:"id_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	Scopes       []string  `json:"scopes,omitempty"`
}

// MarshalJSON emits the token's shape without its secrets (see tokenJSON).
// It is not a serialization: UnmarshalJSON refuses the result.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(tokenJSON{
		TokenType:    t.TokenType,
		AccessToken:  jsonMarker(t.AccessToken),
		RefreshToken: jsonMarker(t.RefreshToken),
		IDToken:      jsonMarker(t.IDToken),
		Expiry:       t.Expiry,
		Scopes:       t.Scopes,
	})
}

// UnmarshalJSON refuses: the JSON form is redacted (see MarshalJSON).
func (t *Token) UnmarshalJSON([]byte) error { return errRedactedJSON }

func jsonMarker(s string) string {
	if s == "" {
		return ""
	}
	return redactedMarker
}

func redact(s string) string {
	if s == "" {
		return "none"
	}
	return redactedMarker
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

// deviceAuthorizationJSON uses the RFC 8628 §3.2 member names; the device
// code, a credential, is replaced by "[redacted]" and interval is in seconds.
type deviceAuthorizationJSON struct {
	UserCode                string    `json:"user_code,omitempty"`
	VerificationURI         string    `json:"verification_uri,omitempty"`
	VerificationURIComplete string    `json:"verification_uri_complete,omitempty"`
	DeviceCode              string    `json:"device_code,omitempty"`
	ExpiresAt               time.Time `json:"expires_at,omitzero"`
	Interval                int64     `json:"interval,omitempty"`
	Scopes                  []string  `json:"scopes,omitempty"`
}

// MarshalJSON emits the authorization without the device code. It is not a
// serialization: UnmarshalJSON refuses the result.
func (d DeviceAuthorization) MarshalJSON() ([]byte, error) {
	return json.Marshal(deviceAuthorizationJSON{
		UserCode:                d.UserCode,
		VerificationURI:         d.VerificationURI,
		VerificationURIComplete: d.VerificationURIComplete,
		DeviceCode:              jsonMarker(d.DeviceCode),
		ExpiresAt:               d.ExpiresAt,
		Interval:                int64(d.Interval / time.Second),
		Scopes:                  d.Scopes,
	})
}

// UnmarshalJSON refuses: the JSON form is redacted (see MarshalJSON).
func (d *DeviceAuthorization) UnmarshalJSON([]byte) error { return errRedactedJSON }
