package devidp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

const (
	// DefaultClientID is the client_id of the public native client when
	// Options.ClientID is empty.
	DefaultClientID = "mcpauth-dev"

	// registeredRedirectURI is the one redirect URI registered for the
	// client. zitadel matches a loopback redirect_uri of a native client on
	// its path (and query) only, ignoring scheme, host and port (RFC 8252,
	// section 7.3), so any http://127.0.0.1:<port>/callback is accepted (as is
	// [::1] or localhost).
	registeredRedirectURI = "http://127.0.0.1/callback"

	// TestUsername and TestPassword are the one user's credentials.
	TestUsername = "test-user"
	TestPassword = "test-password"

	// storageAccessTokenLifetime is hard-coded in the example storage
	// (Storage.accessToken); it cannot be lengthened from outside.
	storageAccessTokenLifetime = 5 * time.Minute
)

// errInjectedSlowDown is returned by the device-state lookup while
// Options.SlowDown polls remain. op.CheckDeviceAuthorizationState maps an
// error wrapping context.DeadlineExceeded to "slow_down"; every other storage
// error (including oidc.ErrSlowDown() itself) becomes "access_denied".
var errInjectedSlowDown = fmt.Errorf("devidp: slow_down injected by Options.SlowDown: %w", context.DeadlineExceeded)

// nativeClient is the public native client. It reuses the example storage's
// NativeClient (application type native, token_endpoint_auth_method none,
// response type code, opaque bearer access tokens, login UI at
// /login/username) and changes what that one cannot be configured to do.
type nativeClient struct {
	*storage.Client
}

// GrantTypes adds the device grant to storage.NativeClient's code and
// refresh_token grants.
func (nativeClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{
		oidc.GrantTypeCode,
		oidc.GrantTypeRefreshToken,
		oidc.GrantTypeDeviceCode,
	}
}

// IsScopeAllowed allows every scope. Without it zitadel silently drops every
// scope other than openid, profile, email, phone, address, offline_access
// (and the example's custom_scope) from authorization requests, which would
// hide scope handling bugs in the code under test.
func (nativeClient) IsScopeAllowed(string) bool { return true }

// userStore holds the single test user, whose ID equals its username: the
// subject of every token is the username, whichever way the user approved.
type userStore struct {
	user *storage.User
}

func newUserStore() userStore {
	return userStore{user: &storage.User{
		ID:                TestUsername,
		Username:          TestUsername,
		Password:          TestPassword,
		FirstName:         "Test",
		LastName:          "User",
		Email:             TestUsername + "@example.com",
		EmailVerified:     true,
		PreferredLanguage: language.English,
	}}
}

func (u userStore) GetUserByID(id string) *storage.User {
	if id == u.user.ID {
		return u.user
	}
	return nil
}

func (u userStore) GetUserByUsername(username string) *storage.User {
	if username == u.user.Username {
		return u.user
	}
	return nil
}

// ExampleClientID names the example's JWT-profile service; unused here.
func (userStore) ExampleClientID() string { return storage.ServiceUserID }

// opStorage is the op.Storage the provider runs on: the example storage with
// a handful of methods replaced. Embedding the pointer keeps every optional
// interface the example storage implements (device, client credentials,
// token exchange, ...).
type opStorage struct {
	*storage.Storage

	users  userStore
	client nativeClient

	slowDown    int          // Options.SlowDown
	polls       atomic.Int64 // device-state lookups so far
	autoApprove bool         // Options.AutoApprove
	logger      *slog.Logger

	// devMu serialises every read and write of device authorization state.
	// The example storage hands out a pointer to its state and the OP reads
	// Done/Denied from it after the storage lock is released, so an approval
	// concurrent with a poll is a data race. All writes go through
	// approveDevice/denyDevice and all reads through GetDeviceAuthorizatonState,
	// which returns a copy.
	devMu    sync.Mutex
	redeemed map[string]bool // device codes that have been exchanged for tokens

	tokenLifetime time.Duration // 0: the storage's 5 minutes
	expMu         sync.Mutex
	expiry        map[string]tokenExpiry // access token ID -> shortened expiry
}

type tokenExpiry struct {
	ours    time.Time // what the OP announced (expires_in) and enforces
	storage time.Time // after this the storage rejects the token by itself
}

func newOPStorage(opts Options) *opStorage {
	users := newUserStore()
	placeholder := storage.NativeClient(opts.ClientID, registeredRedirectURI)
	return &opStorage{
		// The placeholder is only in the map because
		// Storage.StoreDeviceAuthorization checks that the client exists;
		// GetClientByClientID below returns the real client.
		Storage:       storage.NewStorageWithClients(users, map[string]*storage.Client{opts.ClientID: placeholder}),
		users:         users,
		client:        nativeClient{placeholder},
		slowDown:      opts.SlowDown,
		autoApprove:   opts.AutoApprove,
		logger:        opts.Logger,
		tokenLifetime: opts.AccessTokenLifetime,
		redeemed:      make(map[string]bool),
		expiry:        make(map[string]tokenExpiry),
	}
}

// GetClientByClientID implements op.Storage.
func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	if id == s.client.GetID() {
		return s.client, nil
	}
	return s.Storage.GetClientByClientID(ctx, id)
}

// AuthorizeClientIDSecret implements op.Storage. The example storage would
// accept HTTP Basic authentication with an empty secret for the public
// client, which then fails the device grant with a misleading "confidential
// client requires authentication"; refuse it up front instead.
func (s *opStorage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	if id == s.client.GetID() {
		return errors.New("public client (token_endpoint_auth_method none) must not authenticate: send client_id in the form body")
	}
	return s.Storage.AuthorizeClientIDSecret(ctx, id, secret)
}

// GetDeviceAuthorizatonState implements op.DeviceAuthorizationStorage (the
// misspelling is zitadel's). It injects Options.SlowDown, returns a copy of
// the state (see devMu), and makes a device code single-use: the example
// storage would hand out tokens for an approved device code on every poll.
// A redeemed code is answered "access_denied", as the OP answers every
// device-state lookup error.
func (s *opStorage) GetDeviceAuthorizatonState(ctx context.Context, id, deviceCode string) (*op.DeviceAuthorizationState, error) {
	if n := s.polls.Add(1); n <= int64(s.slowDown) {
		return nil, errInjectedSlowDown
	}
	s.devMu.Lock()
	defer s.devMu.Unlock()
	state, err := s.Storage.GetDeviceAuthorizatonState(ctx, id, deviceCode)
	if err != nil {
		return nil, err
	}
	if state.Done {
		if s.redeemed[deviceCode] {
			return nil, errors.New("device_code already redeemed")
		}
		s.redeemed[deviceCode] = true
	}
	c := *state
	return &c, nil
}

// StoreDeviceAuthorization implements op.DeviceAuthorizationStorage. With
// Options.AutoApprove the new device authorization is approved at once, as
// the test user, so the first poll already gets the tokens.
func (s *opStorage) StoreDeviceAuthorization(ctx context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	if err := s.Storage.StoreDeviceAuthorization(ctx, clientID, deviceCode, userCode, expires, scopes); err != nil {
		return err
	}
	if !s.autoApprove {
		return nil
	}
	if err := s.approveDevice(ctx, userCode, TestUsername); err != nil {
		return err
	}
	s.logger.Info("devidp: device code approved automatically", "user_code", userCode, "client_id", clientID, "scopes", scopes)
	return nil
}

// deviceRequest is what the device page shows about a pending user code.
type deviceRequest struct {
	ClientID string
	Scopes   []string
}

// lookupDevice describes a pending device authorization, or says why it
// cannot be approved.
func (s *opStorage) lookupDevice(ctx context.Context, userCode string) (deviceRequest, error) {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	state, err := s.Storage.GetDeviceAuthorizationByUserCode(ctx, userCode)
	switch {
	case err != nil:
		return deviceRequest{}, fmt.Errorf("unknown code %q", userCode)
	case state.Denied:
		return deviceRequest{}, fmt.Errorf("code %q was denied", userCode)
	case state.Done:
		return deviceRequest{}, fmt.Errorf("code %q was already approved", userCode)
	case time.Now().After(state.Expires):
		return deviceRequest{}, fmt.Errorf("code %q has expired", userCode)
	}
	return deviceRequest{ClientID: state.ClientID, Scopes: slices.Clone(state.Scopes)}, nil
}

func (s *opStorage) approveDevice(ctx context.Context, userCode, subject string) error {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	state, err := s.Storage.GetDeviceAuthorizationByUserCode(ctx, userCode)
	if err != nil {
		return fmt.Errorf("devidp: approve device: user code %q: %w", userCode, err)
	}
	switch {
	case state.Denied:
		return fmt.Errorf("devidp: approve device: user code %q was already denied", userCode)
	case state.Done:
		return fmt.Errorf("devidp: approve device: user code %q was already approved", userCode)
	case time.Now().After(state.Expires):
		return fmt.Errorf("devidp: approve device: user code %q expired at %s", userCode, state.Expires.Format(time.RFC3339Nano))
	}
	if err := s.Storage.CompleteDeviceAuthorization(ctx, userCode, subject); err != nil {
		return fmt.Errorf("devidp: approve device: %w", err)
	}
	state.AuthTime = time.Now() // for the id_token's auth_time; guarded by devMu
	return nil
}

func (s *opStorage) denyDevice(ctx context.Context, userCode string) error {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	// Storage.DenyDeviceAuthorization dereferences a nil state (panics) for
	// an unknown user code, so look it up first.
	state, err := s.Storage.GetDeviceAuthorizationByUserCode(ctx, userCode)
	if err != nil {
		return fmt.Errorf("devidp: deny device: user code %q: %w", userCode, err)
	}
	if state.Done {
		return fmt.Errorf("devidp: deny device: user code %q was already approved", userCode)
	}
	if err := s.Storage.DenyDeviceAuthorization(ctx, userCode); err != nil {
		return fmt.Errorf("devidp: deny device: %w", err)
	}
	return nil
}

// deviceTokenRequest turns the device state the OP passes to token creation
// into the example storage's AuthRequest. The example storage only reads the
// client ID from an *AuthRequest, so it would store tokens issued by the
// device grant without a client ID, and refreshing such a refresh token would
// then fail with invalid_grant (client mismatch).
func deviceTokenRequest(req op.TokenRequest) op.TokenRequest {
	state, ok := req.(*op.DeviceAuthorizationState)
	if !ok {
		return req
	}
	return &storage.AuthRequest{
		ApplicationID: state.ClientID,
		UserID:        state.Subject,
		Scopes:        state.Scopes,
	}
}

// CreateAccessToken implements op.Storage.
func (s *opStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, exp, err := s.Storage.CreateAccessToken(ctx, deviceTokenRequest(req))
	if err != nil {
		return "", time.Time{}, err
	}
	return id, s.shorten(id, exp), nil
}

// CreateAccessAndRefreshTokens implements op.Storage.
func (s *opStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	id, refresh, exp, err := s.Storage.CreateAccessAndRefreshTokens(ctx, deviceTokenRequest(req), currentRefreshToken)
	if err != nil {
		return "", "", time.Time{}, err
	}
	return id, refresh, s.shorten(id, exp), nil
}

// shorten applies Options.AccessTokenLifetime to a freshly created access
// token and returns the expiry the OP should announce.
func (s *opStorage) shorten(id string, storageExp time.Time) time.Time {
	if s.tokenLifetime <= 0 {
		return storageExp
	}
	ours := time.Now().Add(s.tokenLifetime)
	if !ours.Before(storageExp) {
		return storageExp
	}
	s.expMu.Lock()
	defer s.expMu.Unlock()
	now := time.Now()
	for k, e := range s.expiry { // the storage rejects these by itself now
		if now.After(e.storage) {
			delete(s.expiry, k)
		}
	}
	s.expiry[id] = tokenExpiry{ours: ours, storage: storageExp}
	return ours
}

// shortenedExpiry reports the shortened expiry of an access token, if any.
func (s *opStorage) shortenedExpiry(id string) (time.Time, bool) {
	s.expMu.Lock()
	defer s.expMu.Unlock()
	e, ok := s.expiry[id]
	return e.ours, ok
}

// SetUserinfoFromToken implements op.Storage (userinfo endpoint).
func (s *opStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if exp, ok := s.shortenedExpiry(tokenID); ok && time.Now().After(exp) {
		return errors.New("token is expired")
	}
	return s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin)
}

// SetIntrospectionFromToken implements op.Storage (introspection endpoint).
func (s *opStorage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, id string) error {
	exp, shortened := s.shortenedExpiry(tokenID)
	if shortened && time.Now().After(exp) {
		return errors.New("token is expired")
	}
	if err := s.Storage.SetIntrospectionFromToken(ctx, resp, tokenID, subject, id); err != nil {
		return err
	}
	if shortened {
		resp.Expiration = oidc.FromTime(exp)
	}
	return nil
}
