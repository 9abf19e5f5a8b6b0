package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
	"github.com/mcpauth/mcpauth/tokenstore/filestore"
	"github.com/mcpauth/mcpauth/tokenstore/keychain"
)

// keychainProbeTimeout bounds the start-up check that the keychain answers.
const keychainProbeTimeout = 5 * time.Second

// ErrStoreUnavailable: the store a provider's configuration chose cannot be
// used on this machine (no keychain reachable, a token directory with the
// wrong permissions). New fails with it rather than run without the
// persistence the user asked for.
var ErrStoreUnavailable = errors.New("mcpauth: the configured token store is not available")

// openStores builds one tokenstore.Store per store kind the providers use
// (config.StoreMemory, StoreKeychain, StoreFile). Tokens of a provider
// configured with memory never reach a Backend.
func openStores(ctx context.Context, kinds []string, now func() time.Time, logger *slog.Logger) (map[string]*tokenstore.Store, error) {
	out := map[string]*tokenstore.Store{config.StoreMemory: {Now: now, Logger: logger}}
	for _, kind := range kinds {
		if out[kind] != nil {
			continue
		}
		b, err := OpenBackend(ctx, kind)
		if err != nil {
			return nil, err
		}
		out[kind] = &tokenstore.Store{Backend: b, Now: now, Logger: logger}
	}
	return out, nil
}

// OpenBackend returns the tokenstore.Backend of a store setting:
// nil for config.StoreMemory; the OS keychain for StoreKeychain, failing
// (ErrStoreUnavailable) when none answers; encrypted files under
// filestore.DefaultDir for StoreFile, their key in the keychain when one
// answers, else in a 0600 key file. `mcpauth status` and `logout` open the
// same backends as a server does.
func OpenBackend(ctx context.Context, kind string) (tokenstore.Backend, error) {
	switch kind {
	case "", config.StoreMemory:
		return nil, nil
	case config.StoreKeychain:
		kc, err := reachableKeychain(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: store: keychain: %w; on a machine without one (a headless Linux box without a Secret Service, a container) use store: file (encrypted files) or store: memory", ErrStoreUnavailable, err)
		}
		return kc, nil
	case config.StoreFile:
		var keeper filestore.KeyKeeper
		if kc, err := reachableKeychain(ctx); err == nil {
			keeper = kc
		}
		fs, err := filestore.New(ctx, filestore.Config{Keychain: keeper})
		if err != nil {
			return nil, fmt.Errorf("%w: store: file: %w", ErrStoreUnavailable, err)
		}
		return fs, nil
	}
	return nil, fmt.Errorf("%w: unknown store %q (want memory, keychain or file)", ErrStoreUnavailable, kind)
}

// reachableKeychain returns the OS keychain if it answers.
func reachableKeychain(ctx context.Context) (*keychain.Keychain, error) {
	kc, err := keychain.New(keychain.Config{})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, keychainProbeTimeout)
	defer cancel()
	if err := kc.Probe(ctx); err != nil {
		return nil, err
	}
	return kc, nil
}

// clientKey is the token key of p's provider, issuer and client, without
// a subject: what a login lock and a stored login are looked up by.
func (p *providerState) clientKey(d provider.Driver, meta *provider.AuthServerMetadata) tokenstore.Key {
	return tokenstore.Key{Provider: p.cfg.Name, Issuer: meta.Issuer, ClientID: d.Describe().ClientID}
}

// accounts lists the logins of p's provider in its store (any issuer or
// client it was configured with), newest login first. Never a token.
func (p *providerState) accounts(ctx context.Context) ([]tokenstore.Account, error) {
	all, err := p.store.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	var out []tokenstore.Account
	for _, a := range all {
		if a.Key.Provider == p.cfg.Name {
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b tokenstore.Account) int { return b.LoggedInAt.Compare(a.LoggedInAt) })
	return out, nil
}

// adoptStored makes a login found in p's store p's own, so no prompt is
// shown: one another server process stored while this one waited for the
// login lock, or an earlier run's. It prefers the user p is logged in as
// (a login never switches users behind the user's back), else the latest
// login. The stored token must carry need. It reports whether it adopted one.
func (p *providerState) adoptStored(ctx context.Context, d provider.Driver, meta *provider.AuthServerMetadata, need []string) bool {
	client := p.clientKey(d, meta)
	accts, err := p.accounts(ctx)
	if err != nil {
		p.a.logger.Warn("mcpauth: the stored logins could not be read", "provider", p.cfg.Name, "err", err)
		return false
	}
	p.mu.Lock()
	user := p.user
	p.mu.Unlock()
	r, _ := d.(provider.Refresher)
	for _, acct := range accts {
		k := acct.Key
		if k.Provider != client.Provider || k.Issuer != client.Issuer || k.ClientID != client.ClientID {
			continue
		}
		if user != "" && k.Subject != user {
			continue
		}
		tok, err := p.store.Token(ctx, k, r)
		if err != nil {
			p.a.logger.Info("mcpauth: a stored login could not be used", "provider", p.cfg.Name, "user", acct.DisplayName, "err", err)
			continue
		}
		if !tok.HasScopes(need) {
			continue
		}
		p.mu.Lock()
		p.key, p.loggedIn, p.enabled, p.driver = k, true, true, d
		p.who, p.user = acct.DisplayName, k.Subject
		p.apis = p.apiPrefixes(d, meta)
		p.mu.Unlock()
		p.a.logger.Info("mcpauth: using a stored login", "provider", p.cfg.Name, "user", acct.DisplayName,
			"scopes", tok.Scopes, "expiry", tok.Expiry)
		return true
	}
	return false
}

// pickUp looks, once p has no token, for a login in p's store: with a
// persistent store a restarted server starts logged in without a prompt;
// in any store, logging out the default account falls back to another.
func (p *providerState) pickUp(ctx context.Context) bool {
	if accts, err := p.accounts(ctx); err != nil || len(accts) == 0 {
		return false
	}
	d := p.cfg.Driver
	meta, err := d.Metadata(ctx)
	if err != nil {
		return false // the login reports it
	}
	return p.adoptStored(ctx, d, meta, nil)
}
