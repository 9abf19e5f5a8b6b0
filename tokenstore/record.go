package tokenstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// RecordVersion is the format version EncodeRecord writes and DecodeRecord
// reads. A record of another version is refused with a *VersionError (a
// newer mcpauth wrote it); it is left in place, not dropped, so that
// newer binary keeps its login.
const RecordVersion = 1

// Record is what a Backend persists for one login. It holds what a
// restarted process needs to go on without a new login and no more:
//
//   - the refresh token, which is what keeps a login alive;
//   - the access token with its expiry and type. Persisting it is what lets
//     every process of the user share one refresh: a process that finds the
//     record refreshed by another uses its access token instead of
//     refreshing again, and a restart within the token's lifetime sends no
//     request. An access token that does not expire (GitHub OAuth Apps) is
//     the only credential there is, so it must be kept anyway. Beside the
//     refresh token it adds little: it is short-lived and grants no more;
//   - the scopes granted, the user's display name and when they logged in,
//     for status output and step-up.
//
// The ID token is not kept: refresh does not need it and it carries
// personal data the display name already summarises.
//
// A Record never belongs to another key than Key: credentials are bound to
// their issuer and client, and Check refuses a record read for another key.
//
// A Record prints, logs and marshals to JSON without its secrets; only
// EncodeRecord serializes them, for a Backend to store.
type Record struct {
	Version      int
	Key          Key
	DisplayName  string
	AccessToken  string
	TokenType    string
	RefreshToken string
	Expiry       time.Time // the access token's; zero if it does not expire
	Scopes       []string
	LoggedInAt   time.Time // when the user logged in; kept across refreshes
	SavedAt      time.Time // when this record was written
}

// NewRecord is the record of t for k, at version RecordVersion.
func NewRecord(k Key, t *provider.Token, displayName string, loggedInAt, savedAt time.Time) *Record {
	return &Record{
		Version:      RecordVersion,
		Key:          k,
		DisplayName:  displayName,
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Expiry,
		Scopes:       t.Scopes,
		LoggedInAt:   loggedInAt,
		SavedAt:      savedAt,
	}
}

// Token is the record's token.
func (r *Record) Token() *provider.Token {
	return &provider.Token{
		AccessToken:  r.AccessToken,
		TokenType:    r.TokenType,
		RefreshToken: r.RefreshToken,
		Expiry:       r.Expiry,
		Scopes:       r.Scopes,
	}
}

// Check reports whether r is a record of the current version for want:
// a *VersionError or an error matching ErrKeyMismatch if not.
func (r *Record) Check(want Key) error {
	if r.Version != RecordVersion {
		return &VersionError{Got: r.Version}
	}
	if r.Key != want {
		// Name the field, not the values: a subject can be an e-mail address.
		return fmt.Errorf("%w: %s differs", ErrKeyMismatch, r.Key.differsIn(want))
	}
	return nil
}

// Account is what status output shows of a login: never a token.
type Account struct {
	Key         Key
	DisplayName string
	Scopes      []string
	Expiry      time.Time // the access token's; zero if it does not expire
	Refreshable bool      // a refresh token is held
	LoggedInAt  time.Time
}

// Account is r without its secrets.
func (r *Record) Account() Account {
	return Account{Key: r.Key, DisplayName: r.DisplayName, Scopes: r.Scopes, Expiry: r.Expiry,
		Refreshable: r.RefreshToken != "", LoggedInAt: r.LoggedInAt}
}

// String describes the record without its secrets.
func (r Record) String() string {
	return fmt.Sprintf("Record{v%d %s user=%q %s}", r.Version, r.Key, r.DisplayName, r.Token())
}

// Format makes every fmt verb print String.
func (r Record) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue keeps secrets out of slog output.
func (r Record) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("key", r.Key), slog.String("user", r.DisplayName), slog.Any("token", r.Token()))
}

// MarshalJSON emits the record without its secrets (the token's redacted
// form). It is not the serialization: EncodeRecord is.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Version     int             `json:"v"`
		Key         Key             `json:"key"`
		DisplayName string          `json:"display_name,omitempty"`
		Token       *provider.Token `json:"token"`
	}{r.Version, r.Key, r.DisplayName, r.Token()})
}

// recordJSON is the serialization EncodeRecord writes.
type recordJSON struct {
	Version      int       `json:"v"`
	Key          Key       `json:"key"`
	DisplayName  string    `json:"display_name,omitempty"`
	AccessToken  string    `json:"access_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	Scopes       []string  `json:"scopes,omitempty"`
	LoggedInAt   time.Time `json:"logged_in_at,omitzero"`
	SavedAt      time.Time `json:"saved_at,omitzero"`
}

// EncodeRecord serializes r, secrets included, for a Backend to store
// (encrypted, or in an OS keychain: never in plaintext on disk).
func EncodeRecord(r *Record) ([]byte, error) {
	if r == nil {
		return nil, errors.New("tokenstore: encode: nil record")
	}
	return json.Marshal(recordJSON(*r))
}

// DecodeRecord parses what EncodeRecord wrote. It fails with an error
// matching ErrCorrupt when data is not a record, and with a *VersionError
// when the record is of another format version. It does not check the key:
// call Check with the key the record was read for.
func DecodeRecord(data []byte) (*Record, error) {
	var head struct {
		Version int `json:"v"`
	}
	// The JSON decoder's errors are not wrapped: they may quote the input.
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: not a JSON record", ErrCorrupt)
	}
	if head.Version != RecordVersion {
		return nil, &VersionError{Got: head.Version}
	}
	var rj recordJSON
	if err := json.Unmarshal(data, &rj); err != nil {
		return nil, fmt.Errorf("%w: a field has the wrong type", ErrCorrupt)
	}
	r := Record(rj)
	return &r, nil
}
