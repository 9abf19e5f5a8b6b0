// Package keychain is a tokenstore.Backend in the OS keychain, through
// github.com/zalando/go-keyring: the Secret Service over D-Bus on Linux
// and the BSDs (GNOME Keyring, KeePassXC, KWallet 5.97+), the login
// Keychain on macOS (through /usr/bin/security), the Credential Manager
// on Windows. None of them needs cgo, so mcpauth cross-compiles.
//
// Each login is one entry (service Config.Service, user "token "+hash of
// its key) holding tokenstore.EncodeRecord's serialization. go-keyring
// cannot list entries, so an index entry ("index") holds the keys of the
// stored logins, updated under a cross-process lock; List reads it.
//
// macOS and Windows bound an entry's size (about 3000 and 2560 bytes):
// when a record is too big, it is stored without its access token (the
// refresh token is what refresh needs; the access token then costs one
// refresh after a restart).
//
// Keychain calls take no context in go-keyring, and a locked Secret
// Service can wait for a user's unlock prompt: every call here is bounded
// by its context instead.
package keychain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mcpauth/mcpauth/tokenstore"
	"github.com/mcpauth/mcpauth/tokenstore/filelock"
	"github.com/zalando/go-keyring"
)

// DefaultService is the keychain service name of mcpauth's entries.
const DefaultService = "mcpauth"

const (
	indexUser    = "index"
	indexVersion = 1
)

// ErrUnavailable: the keychain could not be reached (no D-Bus session or
// Secret Service, a locked keychain, a timeout).
var ErrUnavailable = errors.New("keychain: the OS keychain is not reachable")

// Config names the entries.
type Config struct {
	// Service is the keychain service of every entry; "" means DefaultService.
	Service string
	// Locker serializes index updates across processes; nil means
	// filelock.Default().
	Locker tokenstore.Locker
}

// Keychain is the Backend. It is safe for concurrent use.
type Keychain struct {
	service string
	locker  tokenstore.Locker
}

var _ tokenstore.Backend = (*Keychain)(nil)

// New returns the keychain backend. It does not reach the keychain: call
// Probe to find out whether one is there.
func New(cfg Config) (*Keychain, error) {
	k := &Keychain{service: cfg.Service, locker: cfg.Locker}
	if k.service == "" {
		k.service = DefaultService
	}
	if k.locker == nil {
		l, err := filelock.Default()
		if err != nil {
			return nil, fmt.Errorf("keychain: %w", err)
		}
		k.locker = l
	}
	return k, nil
}

// Probe reports whether the keychain answers: nil, or an error matching
// ErrUnavailable.
func (k *Keychain) Probe(ctx context.Context) error {
	_, err := k.get(ctx, indexUser)
	if err == nil || errors.Is(err, tokenstore.ErrNotFound) {
		return nil
	}
	return err
}

// call runs fn, bounded by ctx: go-keyring's calls take no context.
func call[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}

// wrap translates go-keyring's errors. Its messages carry no secret.
func wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return tokenstore.ErrNotFound
	case errors.Is(err, ErrUnavailable), errors.Is(err, keyring.ErrSetDataTooBig):
		return err
	default:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}

func (k *Keychain) get(ctx context.Context, user string) (string, error) {
	v, err := call(ctx, func() (string, error) { return keyring.Get(k.service, user) })
	return v, wrap(err)
}

func (k *Keychain) set(ctx context.Context, user, value string) error {
	_, err := call(ctx, func() (struct{}, error) { return struct{}{}, keyring.Set(k.service, user, value) })
	return wrap(err)
}

func (k *Keychain) del(ctx context.Context, user string) error {
	_, err := call(ctx, func() (struct{}, error) { return struct{}{}, keyring.Delete(k.service, user) })
	if err = wrap(err); errors.Is(err, tokenstore.ErrNotFound) {
		return nil
	}
	return err
}

// GetSecret returns the entry name, for filestore's encryption key. It
// fails with tokenstore.ErrNotFound when there is none.
func (k *Keychain) GetSecret(ctx context.Context, name string) (string, error) {
	v, err := k.get(ctx, "secret "+name)
	if err != nil {
		return "", fmt.Errorf("keychain: %w", err)
	}
	return v, nil
}

// SetSecret stores value as the entry name.
func (k *Keychain) SetSecret(ctx context.Context, name, value string) error {
	if err := k.set(ctx, "secret "+name, value); err != nil {
		return fmt.Errorf("keychain: %w", err)
	}
	return nil
}

// EntryName is the keychain entry (its "user" or account) of k's login:
// "token " and a hash of the key, since keys hold URLs.
func EntryName(k tokenstore.Key) string {
	sum := sha256.Sum256([]byte(k.Provider + "\x00" + k.Issuer + "\x00" + k.ClientID + "\x00" + k.Subject))
	return "token " + hex.EncodeToString(sum[:16])
}

// Load reads k's entry.
func (k *Keychain) Load(ctx context.Context, key tokenstore.Key) (*tokenstore.Record, error) {
	v, err := k.get(ctx, EntryName(key))
	if err != nil {
		return nil, fmt.Errorf("keychain: %w", err)
	}
	r, err := tokenstore.DecodeRecord([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("keychain: %w", err)
	}
	if err := r.Check(key); err != nil {
		return nil, fmt.Errorf("keychain: %w", err)
	}
	return r, nil
}

// Save writes r's entry and adds its key to the index.
func (k *Keychain) Save(ctx context.Context, r *tokenstore.Record) error {
	data, err := tokenstore.EncodeRecord(r)
	if err != nil {
		return err
	}
	err = k.set(ctx, EntryName(r.Key), string(data))
	if errors.Is(err, keyring.ErrSetDataTooBig) && r.RefreshToken != "" {
		slim := *r
		slim.AccessToken, slim.Expiry = "", time.Time{}
		if data, err = tokenstore.EncodeRecord(&slim); err == nil {
			err = k.set(ctx, EntryName(r.Key), string(data))
		}
	}
	if err != nil {
		return fmt.Errorf("keychain: %s: %w", r.Key, err)
	}
	return k.updateIndex(ctx, func(keys []tokenstore.Key) []tokenstore.Key {
		if slices.Contains(keys, r.Key) {
			return keys
		}
		return append(keys, r.Key)
	})
}

// Delete removes k's entry and its index line.
func (k *Keychain) Delete(ctx context.Context, key tokenstore.Key) error {
	if err := k.del(ctx, EntryName(key)); err != nil {
		return fmt.Errorf("keychain: %s: %w", key, err)
	}
	return k.updateIndex(ctx, func(keys []tokenstore.Key) []tokenstore.Key {
		return slices.DeleteFunc(keys, func(o tokenstore.Key) bool { return o == key })
	})
}

// List returns the keys in the index.
func (k *Keychain) List(ctx context.Context) ([]tokenstore.Key, error) {
	keys, err := k.index(ctx)
	if err != nil {
		return nil, err
	}
	return keys, nil
}

type indexJSON struct {
	Version int              `json:"v"`
	Keys    []tokenstore.Key `json:"keys"`
}

func (k *Keychain) index(ctx context.Context) ([]tokenstore.Key, error) {
	v, err := k.get(ctx, indexUser)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keychain: index: %w", err)
	}
	var idx indexJSON
	if err := json.Unmarshal([]byte(v), &idx); err != nil || idx.Version != indexVersion {
		// The index is a list of names, rebuilt by the next Save: a bad
		// one loses status output, no login.
		return nil, nil
	}
	return idx.Keys, nil
}

// updateIndex applies edit to the index under the index lock, so two
// processes saving at once keep both keys.
func (k *Keychain) updateIndex(ctx context.Context, edit func([]tokenstore.Key) []tokenstore.Key) error {
	unlock, err := k.locker.Lock(ctx, "keychain index\x00"+k.service)
	if err != nil {
		return fmt.Errorf("keychain: index: %w", err)
	}
	defer unlock()
	keys, err := k.index(ctx)
	if err != nil {
		return err
	}
	data, err := json.Marshal(indexJSON{Version: indexVersion, Keys: edit(keys)})
	if err != nil {
		return fmt.Errorf("keychain: index: %w", err)
	}
	if err := k.set(ctx, indexUser, string(data)); err != nil {
		return fmt.Errorf("keychain: index: %w", err)
	}
	return nil
}
