package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore/filelock"
)

// refreshLock names the lock held while k's token is refreshed or written.
func refreshLock(k Key) string { return "refresh\x00" + k.String() }

// loginLock names the lock held while someone logs in to k's provider,
// issuer and client (the subject is not known before the login).
func loginLock(k Key) string { return "login\x00" + k.client().String() }

func (s *Store) lock(ctx context.Context, name string) (func(), error) {
	s.lockerOnce.Do(func() {
		switch {
		case s.Locker != nil:
			s.locker = s.Locker
		case s.Backend != nil:
			s.locker, s.lockerErr = filelock.Default()
		default:
			s.locker = &processLocks{}
		}
	})
	if s.lockerErr != nil {
		return nil, fmt.Errorf("tokenstore: %w", s.lockerErr)
	}
	return s.locker.Lock(ctx, name)
}

// LockLogin takes the login lock of k's provider, issuer and client (k's
// Subject is ignored), waiting while another process (or goroutine) holds
// it, until ctx is done at most. The SDK holds it around a login: a
// second server process started at the same time blocks here, then finds
// the first one's login with Lookup instead of showing a second prompt.
// The lock is released by the returned function, or when the process
// dies.
func (s *Store) LockLogin(ctx context.Context, k Key) (unlock func(), err error) {
	unlock, err = s.lock(ctx, loginLock(k))
	if err != nil {
		return nil, fmt.Errorf("tokenstore: %s: login lock: %w", k.client(), err)
	}
	return unlock, nil
}

// Lookup finds the account logged in to k's provider, issuer and client
// (k's Subject is ignored), in memory or in the Backend: the subject is
// known only after a login, so a restarted process asks here for the key
// to pass to Token. When several users are logged in, the latest login
// wins. It fails with an error matching ErrNoToken when there is none.
func (s *Store) Lookup(ctx context.Context, k Key) (Account, error) {
	accounts, err := s.accounts(ctx, func(o Key) bool { return o.client() == k.client() })
	if err != nil {
		return Account{}, err
	}
	if len(accounts) == 0 {
		return Account{}, fmt.Errorf("tokenstore: %s: %w", k.client(), provider.ErrNoToken)
	}
	latest := accounts[0]
	for _, a := range accounts[1:] {
		if a.LoggedInAt.After(latest.LoggedInAt) {
			latest = a
		}
	}
	return latest, nil
}

// Accounts lists every login in memory and in the Backend, sorted by key,
// for status output. It never returns a token.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	return s.accounts(ctx, func(Key) bool { return true })
}

func (s *Store) accounts(ctx context.Context, match func(Key) bool) ([]Account, error) {
	found := make(map[Key]Account)
	s.mu.Lock()
	for k, e := range s.tokens {
		if match(k) {
			found[k] = s.record(k, e).Account()
		}
	}
	s.mu.Unlock()
	if s.Backend != nil {
		keys, err := s.Backend.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("tokenstore: list: %w", err)
		}
		for _, k := range keys {
			if _, ok := found[k]; ok || !match(k) {
				continue
			}
			rec, err := s.Backend.Load(ctx, k)
			if err == nil {
				err = rec.Check(k)
			}
			if errors.Is(err, ErrNotFound) {
				continue // deleted since List
			}
			if err != nil {
				// Token reports it (and drops the record) for this key.
				s.logger().Warn("tokenstore: a stored login is unusable", "key", k.String(), "err", err)
				continue
			}
			found[k] = rec.Account()
		}
	}
	out := make([]Account, 0, len(found))
	for _, a := range found {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Account) int { return strings.Compare(a.Key.String(), b.Key.String()) })
	return out, nil
}

// processLocks are the locks of a Store without a Backend: there is
// nothing to share with other processes, so they hold within this one.
type processLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

func (p *processLocks) Lock(ctx context.Context, name string) (func(), error) {
	p.mu.Lock()
	if p.held == nil {
		p.held = make(map[string]chan struct{})
	}
	sem, ok := p.held[name]
	if !ok {
		sem = make(chan struct{}, 1)
		p.held[name] = sem
	}
	p.mu.Unlock()
	select {
	case sem <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-sem }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
