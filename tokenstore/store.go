package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mcpauth/mcpauth/provider"
	"golang.org/x/sync/singleflight"
)

// refreshTimeout bounds one refresh: the wait for the lock other processes
// share, the backend's reads and writes and the refresh request. The
// refresh runs detached from the caller that started it, so one caller
// giving up does not fail the others waiting on the same refresh.
const refreshTimeout = 30 * time.Second

// backendTimeout bounds the backend calls of Put and Delete, which take no
// context.
const backendTimeout = 10 * time.Second

// Key identifies a token: provider + issuer + client + subject. The
// provider name is part of it so that two providers with the same issuer,
// client and user (two configurations of one server, say) never overwrite
// or log out each other.
type Key struct {
	Provider string `json:"provider"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	Subject  string `json:"subject"`
}

func (k Key) String() string { return k.Provider + " " + k.Issuer + " " + k.ClientID + " " + k.Subject }

// client is k without its subject: the login of one provider, issuer and
// client, whoever the user turns out to be.
func (k Key) client() Key { k.Subject = ""; return k }

// differsIn names the first field in which k and o differ.
func (k Key) differsIn(o Key) string {
	switch {
	case k.Provider != o.Provider:
		return "provider"
	case k.Issuer != o.Issuer:
		return "issuer"
	case k.ClientID != o.ClientID:
		return "client"
	default:
		return "subject"
	}
}

// Store keeps tokens in memory and refreshes them on demand. Refresh is
// single-flight per key: any number of concurrent callers holding an
// expired token cause one refresh request. A rotated refresh token
// replaces the old one. A refresh that failed transiently keeps the token,
// so the next call retries; any other failure (invalid_grant,
// invalid_client, …) drops it, so the next call logs in again (RFC 6749
// §5.2: the refresh token is no longer usable).
//
// Without a Backend (the default) tokens never leave memory. With one,
// logins survive restarts and are shared by every process of the user:
// see the package documentation.
//
// The zero value is ready to use and safe for concurrent use. Set the
// fields before first use.
type Store struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Backend persists tokens; nil keeps them in memory only.
	Backend Backend
	// Locker serializes refreshes and logins across processes. nil means
	// filelock.Default() when a Backend is set, and locks within this
	// process only otherwise.
	Locker Locker
	// Logger receives the backend failures that Put, Delete and refresh
	// cannot return (never a token); nil means slog.Default().
	Logger *slog.Logger

	mu     sync.Mutex
	tokens map[Key]*entry
	flight singleflight.Group

	lockerOnce sync.Once
	locker     Locker
	lockerErr  error
}

// entry is one token in memory with what a Record keeps beside it.
type entry struct {
	tok         *provider.Token
	displayName string
	loggedInAt  time.Time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Save stores t as the login of k (by the user displayName, shown in
// status output), replacing any token there, and persists it when a
// Backend is set. The token is kept in memory even when persisting fails;
// the error then says the login will not survive a restart.
func (s *Store) Save(ctx context.Context, k Key, t *provider.Token, displayName string) error {
	if t == nil {
		return fmt.Errorf("tokenstore: %s: save: no token", k)
	}
	if t.IssuedAt.IsZero() {
		t.IssuedAt = s.now()
	}
	e := &entry{tok: t, displayName: displayName, loggedInAt: s.now()}
	s.set(k, e)
	if s.Backend == nil {
		return nil
	}
	unlock, err := s.lock(ctx, refreshLock(k))
	if err != nil {
		return fmt.Errorf("tokenstore: %s: save: %w", k, err)
	}
	defer unlock()
	if err := s.Backend.Save(ctx, s.record(k, e)); err != nil {
		return fmt.Errorf("tokenstore: %s: save: %w", k, err)
	}
	return nil
}

// Put is Save without a context or display name: the backend write is
// bounded by backendTimeout and a failure is logged.
func (s *Store) Put(k Key, t *provider.Token) {
	ctx, cancel := context.WithTimeout(context.Background(), backendTimeout)
	defer cancel()
	name := ""
	if e, ok := s.entry(k); ok {
		name = e.displayName
	}
	if err := s.Save(ctx, k, t, name); err != nil {
		s.logger().Warn("tokenstore: the login is kept in memory only", "key", k.String(), "err", err)
	}
}

// Remove forgets the token of k in memory and in the Backend (logout):
// other processes stop using it at their next refresh.
func (s *Store) Remove(ctx context.Context, k Key) error {
	s.mu.Lock()
	delete(s.tokens, k)
	s.mu.Unlock()
	if s.Backend == nil {
		return nil
	}
	unlock, err := s.lock(ctx, refreshLock(k))
	if err != nil {
		return fmt.Errorf("tokenstore: %s: delete: %w", k, err)
	}
	defer unlock()
	if err := s.Backend.Delete(ctx, k); err != nil {
		return fmt.Errorf("tokenstore: %s: delete: %w", k, err)
	}
	return nil
}

// Delete is Remove without a context: the backend call is bounded by
// backendTimeout and a failure is logged.
func (s *Store) Delete(k Key) {
	ctx, cancel := context.WithTimeout(context.Background(), backendTimeout)
	defer cancel()
	if err := s.Remove(ctx, k); err != nil {
		s.logger().Error("tokenstore: logged out here, but the stored login could not be deleted", "key", k.String(), "err", err)
	}
}

// Peek returns the token under k in memory as it is, valid or not. It does
// not read the Backend: Token and Lookup do.
func (s *Store) Peek(k Key) (*provider.Token, bool) {
	e, ok := s.entry(k)
	if !ok {
		return nil, false
	}
	return e.tok, true
}

func (s *Store) entry(k Key) (*entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.tokens[k]
	return e, ok
}

func (s *Store) set(k Key, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		s.tokens = make(map[Key]*entry)
	}
	s.tokens[k] = e
}

// replace sets k to e unless a login or logout replaced old meanwhile.
func (s *Store) replace(k Key, old, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens[k] == old {
		s.tokens[k] = e
	}
}

// drop removes old unless a newer token replaced it meanwhile.
func (s *Store) drop(k Key, old *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens[k] == old {
		delete(s.tokens, k)
	}
}

// Token returns a valid token for k, refreshing it through r if it
// expired. A token not in memory is loaded from the Backend, so a
// restarted process starts logged in. It returns an error matching
// ErrNoToken when there is none (or the stored one could not be used),
// ErrRefreshTransient when the refresh failed transiently (the token is
// kept), and ErrRefreshFailed when it failed otherwise (the token is then
// dropped, from the Backend too).
// r may be nil when the issuer has no refresh (the expired token is then dropped).
func (s *Store) Token(ctx context.Context, k Key, r provider.Refresher) (*provider.Token, error) {
	e, ok := s.entry(k)
	if !ok {
		if s.Backend == nil {
			return nil, fmt.Errorf("tokenstore: %s: %w", k, provider.ErrNoToken)
		}
		v, err := s.once(ctx, "load "+k.String(), func(ctx context.Context) (any, error) { return s.load(ctx, k) })
		if err != nil {
			return nil, err
		}
		e = v.(*entry)
	}
	if e.tok.ValidAt(s.now()) {
		return e.tok, nil
	}
	v, err := s.once(ctx, "refresh "+k.String(), func(ctx context.Context) (any, error) { return s.refresh(ctx, k, r) })
	if err != nil {
		return nil, err
	}
	return v.(*provider.Token), nil
}

// once runs fn once for all concurrent callers with the same name,
// detached from the caller that started it and bounded by refreshTimeout;
// each caller waits until its own ctx is done at most.
func (s *Store) once(ctx context.Context, name string, fn func(context.Context) (any, error)) (any, error) {
	ch := s.flight.DoChan(name, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return fn(ctx)
	})
	select {
	case res := <-ch:
		return res.Val, res.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Store) refresh(ctx context.Context, k Key, r provider.Refresher) (*provider.Token, error) {
	mem, ok := s.entry(k)
	if !ok {
		return nil, fmt.Errorf("tokenstore: %s: %w", k, provider.ErrNoToken)
	}
	// A caller that read the expired token before a finished refresh stored
	// the new one lands here: no second request.
	if mem.tok.ValidAt(s.now()) {
		return mem.tok, nil
	}
	cur := mem
	if s.Backend != nil {
		unlock, err := s.lock(ctx, refreshLock(k))
		if err != nil {
			// Another process is refreshing and did not finish in time: no
			// verdict on the token, keep it.
			return nil, fmt.Errorf("tokenstore: %s: %w: %w", k, ErrRefreshTransient, err)
		}
		defer unlock()
		stored, err := s.reload(ctx, k, mem)
		if err != nil {
			return nil, err
		}
		if stored != nil {
			// Another process refreshed, or logged in again, meanwhile: use
			// its token, or at least its refresh token, which rotation may
			// have replaced (the one in memory is then revoked).
			if stored.tok.ValidAt(s.now()) {
				s.replace(k, mem, stored)
				return stored.tok, nil
			}
			cur = stored
		}
	}
	old := cur.tok
	if r == nil || old.RefreshToken == "" {
		s.forget(ctx, k, mem)
		return nil, fmt.Errorf("tokenstore: %s: token expired and cannot be refreshed: %w", k, provider.ErrRefreshFailed)
	}
	t, err := r.Refresh(ctx, old)
	if err == nil && (t == nil || t.AccessToken == "") {
		err = errors.New("refresh returned no access token")
	}
	if provider.IsTransient(err) {
		// No answer is no verdict on the refresh token: keep it.
		if cur != mem {
			s.replace(k, mem, cur)
		}
		return nil, fmt.Errorf("tokenstore: %s: %w: %w", k, ErrRefreshTransient, err)
	}
	if err != nil {
		s.forget(ctx, k, mem)
		return nil, fmt.Errorf("tokenstore: %s: %w: %w", k, provider.ErrRefreshFailed, err)
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
	if t.IssuedAt.IsZero() {
		t.IssuedAt = s.now()
	}
	e := &entry{tok: t, displayName: cur.displayName, loggedInAt: cur.loggedInAt}
	if s.Backend != nil {
		// Still under the lock: the next process to refresh reads this
		// record, with the rotated refresh token.
		if err := s.Backend.Save(ctx, s.record(k, e)); err != nil {
			s.logger().Error("tokenstore: refreshed, but the new token could not be stored; other processes may have to log in again",
				"key", k.String(), "err", err)
		}
	}
	s.replace(k, mem, e)
	return t, nil
}

// reload reads the stored record of k under its refresh lock. It returns
// nil and no error when the record cannot be used but the token in memory
// can (the refresh then overwrites the record), and ErrNoToken when there
// is no record: another process logged out, or dropped the token after a
// refused refresh.
func (s *Store) reload(ctx context.Context, k Key, mem *entry) (*entry, error) {
	rec, err := s.Backend.Load(ctx, k)
	if err == nil {
		err = rec.Check(k)
	}
	switch {
	case err == nil:
		if rec.AccessToken == mem.tok.AccessToken && rec.RefreshToken == mem.tok.RefreshToken {
			return nil, nil // nobody refreshed meanwhile
		}
		return s.entryOf(rec), nil
	case errors.Is(err, ErrNotFound):
		s.drop(k, mem)
		return nil, fmt.Errorf("tokenstore: %s: logged out in another process: %w", k, provider.ErrNoToken)
	default:
		s.logger().Warn("tokenstore: the stored login is unusable; refreshing the token held in memory",
			"key", k.String(), "err", err)
		return nil, nil
	}
}

// load reads k from the Backend into memory. A record that cannot be read
// back (damaged, tampered with, another key's) is deleted; one of an
// unknown format version is left for the newer build that wrote it.
func (s *Store) load(ctx context.Context, k Key) (*entry, error) {
	if e, ok := s.entry(k); ok {
		return e, nil
	}
	rec, err := s.Backend.Load(ctx, k)
	if err == nil {
		err = rec.Check(k)
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("tokenstore: %s: %w", k, provider.ErrNoToken)
	case errors.Is(err, ErrCorrupt), errors.Is(err, ErrKeyMismatch):
		if derr := s.Backend.Delete(ctx, k); derr != nil {
			s.logger().Error("tokenstore: could not delete an unusable stored login", "key", k.String(), "err", derr)
		}
		return nil, fmt.Errorf("tokenstore: %s: %w: %w", k, provider.ErrNoToken, err)
	default:
		return nil, fmt.Errorf("tokenstore: %s: %w: %w", k, provider.ErrNoToken, err)
	}
	e := s.entryOf(rec)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.tokens[k]; ok { // a login landed meanwhile: it wins
		return cur, nil
	}
	if s.tokens == nil {
		s.tokens = make(map[Key]*entry)
	}
	s.tokens[k] = e
	return e, nil
}

// forget drops mem from memory and the stored record with it: the token
// is of no more use to any process. The caller holds the refresh lock.
func (s *Store) forget(ctx context.Context, k Key, mem *entry) {
	s.drop(k, mem)
	if s.Backend == nil {
		return
	}
	if err := s.Backend.Delete(ctx, k); err != nil {
		s.logger().Error("tokenstore: could not delete a refused stored login", "key", k.String(), "err", err)
	}
}

func (s *Store) record(k Key, e *entry) *Record {
	return NewRecord(k, e.tok, e.displayName, e.loggedInAt, s.now())
}

func (s *Store) entryOf(r *Record) *entry {
	return &entry{tok: r.Token(), displayName: r.DisplayName, loggedInAt: r.LoggedInAt}
}
