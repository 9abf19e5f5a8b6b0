package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mcpauth/mcpauth/provider"
	"golang.org/x/sync/singleflight"
)

// refreshTimeout bounds one refresh request. The refresh runs detached from
// the caller that started it, so one caller giving up does not fail the
// others waiting on the same refresh.
const refreshTimeout = 30 * time.Second

// Key identifies a token: provider + issuer + client + subject. The
// provider name is part of it so that two providers with the same issuer,
// client and user (two configurations of one server, say) never overwrite
// or log out each other.
type Key struct {
	Provider string
	Issuer   string
	ClientID string
	Subject  string
}

func (k Key) String() string { return k.Provider + " " + k.Issuer + " " + k.ClientID + " " + k.Subject }

// Store keeps tokens in memory only (they never touch disk) and
// refreshes them on demand. Refresh is single-flight per key: any number of
// concurrent callers holding an expired token cause one refresh request.
// A rotated refresh token replaces the old one; a failed refresh drops the
// token, so the next call logs in again.
//
// The zero value is ready to use and safe for concurrent use.
type Store struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	tokens map[Key]*provider.Token
	flight singleflight.Group
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Put stores t under k, replacing any token there.
func (s *Store) Put(k Key, t *provider.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		s.tokens = make(map[Key]*provider.Token)
	}
	s.tokens[k] = t
}

// Delete forgets the token under k.
func (s *Store) Delete(k Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, k)
}

// Peek returns the stored token under k as it is, valid or not.
func (s *Store) Peek(k Key) (*provider.Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[k]
	return t, ok
}

// Token returns a valid token for k, refreshing it through r if it expired.
// It returns an error matching ErrNoToken when there is none, and
// ErrRefreshFailed when the refresh failed (the token is then dropped).
// r may be nil when the issuer has no refresh (the expired token is then dropped).
func (s *Store) Token(ctx context.Context, k Key, r provider.Refresher) (*provider.Token, error) {
	t, ok := s.Peek(k)
	if !ok {
		return nil, fmt.Errorf("provider: %s: %w", k, provider.ErrNoToken)
	}
	if t.ValidAt(s.now()) {
		return t, nil
	}
	ch := s.flight.DoChan(k.String(), func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return s.refresh(ctx, k, r)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*provider.Token), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Store) refresh(ctx context.Context, k Key, r provider.Refresher) (*provider.Token, error) {
	old, ok := s.Peek(k)
	if !ok {
		return nil, fmt.Errorf("provider: %s: %w", k, provider.ErrNoToken)
	}
	// A caller that read the expired token before a finished refresh stored
	// the new one lands here: no second request.
	if old.ValidAt(s.now()) {
		return old, nil
	}
	if r == nil || old.RefreshToken == "" {
		s.drop(k, old)
		return nil, fmt.Errorf("provider: %s: token expired and cannot be refreshed: %w", k, provider.ErrRefreshFailed)
	}
	t, err := r.Refresh(ctx, old)
	if err == nil && (t == nil || t.AccessToken == "") {
		err = errors.New("refresh returned no access token")
	}
	if err != nil {
		s.drop(k, old)
		return nil, fmt.Errorf("provider: %s: %w: %w", k, provider.ErrRefreshFailed, err)
	}
	// RFC 6749 §6: the server may issue a new refresh token (rotation, the
	// old one is then revoked); if it does not, the old one stays valid.
	if t.RefreshToken == "" {
		t.RefreshToken = old.RefreshToken
	}
	if len(t.Scopes) == 0 {
		t.Scopes = old.Scopes
	}
	if t.IDToken == "" {
		t.IDToken = old.IDToken
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens[k] == old { // not replaced by a login or removed meanwhile
		s.tokens[k] = t
	}
	return t, nil
}

// drop removes old unless a newer token replaced it meanwhile.
func (s *Store) drop(k Key, old *provider.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens[k] == old {
		delete(s.tokens, k)
	}
}
