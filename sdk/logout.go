package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// revocation is what a logout did with one login at the issuer.
type revocation int

const (
	revoked           revocation = iota // the issuer revoked the token (RFC 7009)
	revokeUnsupported                   // the issuer offers no revocation: only forgotten
	revokeFailed                        // the issuer refused or did not answer: only forgotten
)

// loggedOut is one login a logout forgot: who, and what the issuer said.
// It never holds a token.
type loggedOut struct {
	who        string
	revocation revocation
}

// logout revokes and forgets p's logins: the account named (its display
// name or subject) or, with account "", every one. The token is revoked at
// the issuer where the driver is a provider.Revoker and the server offers
// revocation, then dropped from memory and from the store, so every server
// process sharing the store is logged out. A login in flight is stopped.
func (p *providerState) logout(ctx context.Context, account string) ([]loggedOut, error) {
	accts, err := p.accounts(ctx)
	if err != nil {
		return nil, err
	}
	var pick []tokenstore.Account
	var names []string
	for _, a := range accts {
		names = append(names, orUnknown(a.DisplayName))
		if account == "" || a.DisplayName == account || a.Key.Subject == account {
			pick = append(pick, a)
		}
	}
	if account != "" && len(pick) == 0 {
		return nil, fmt.Errorf("mcpauth: %s: no account %q is logged in (logged in: %s)", p.cfg.Name, account, orNone(names))
	}
	p.mu.Lock()
	d, f := p.driver, p.flow
	p.mu.Unlock()
	if d == nil {
		d = p.cfg.Driver
	}
	var out []loggedOut
	var errs []error
	for _, a := range pick {
		out = append(out, loggedOut{who: orUnknown(a.DisplayName), revocation: p.revoke(ctx, d, a.Key)})
		if err := p.store.Remove(ctx, a.Key); err != nil {
			errs = append(errs, err)
		}
		p.forgetAccount(a.Key)
	}
	if account == "" && f != nil {
		f.abort(errLoggedOut)
	}
	// The next account, if one is left, becomes the default at the next call.
	return out, errors.Join(errs...)
}

// forgetAccount clears p's state if k is the account it uses.
func (p *providerState) forgetAccount(k tokenstore.Key) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key == k {
		p.loggedIn, p.enabled, p.who, p.user, p.apis = false, false, "", "", nil
	}
}

// revoke asks the issuer to revoke k's token. The token goes only to the
// issuer and client it was issued by: a stored login of another issuer
// (the configuration changed since) is only forgotten.
func (p *providerState) revoke(ctx context.Context, d provider.Driver, k tokenstore.Key) revocation {
	rv, ok := d.(provider.Revoker)
	if !ok {
		return revokeUnsupported
	}
	meta, err := d.Metadata(ctx)
	if err != nil || p.clientKey(d, meta) != (tokenstore.Key{Provider: k.Provider, Issuer: k.Issuer, ClientID: k.ClientID}) {
		return revokeFailed
	}
	tok, ok := p.store.Peek(k)
	if !ok && p.store.Backend != nil {
		if rec, err := p.store.Backend.Load(ctx, k); err == nil {
			tok, ok = rec.Token(), true
		}
	}
	if !ok {
		return revokeFailed
	}
	switch err := rv.Revoke(ctx, tok); {
	case err == nil:
		return revoked
	case errors.Is(err, provider.ErrRevocationUnsupported):
		return revokeUnsupported
	default:
		p.a.logger.Warn("mcpauth: the issuer did not revoke the token; it is forgotten here", "provider", p.cfg.Name, "err", err)
		return revokeFailed
	}
}

// describeLogout is the text of a logout's result: who, and whether the
// issuer revoked the token. Never a token.
func describeLogout(name string, out []loggedOut) string {
	var parts []string
	for _, o := range out {
		s := name + " (" + o.who + "): "
		switch o.revocation {
		case revoked:
			s += "revoked at the issuer and forgotten"
		case revokeUnsupported:
			s += "the issuer offers no token revocation, so the token was only forgotten here; it stays valid at the issuer until it expires"
		default:
			s += "the issuer did not confirm the revocation; the token was forgotten here"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
