package logintest

import (
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// RefreshRotates has a tokenstore.Store refresh tok with d the way a host
// does once tok has expired: it puts tok under key in a store whose clock it
// then moves past tok's expiry, and returns the token the store hands out.
// It fails the test unless d refreshed with rotation: a new access token
// and a new, non-empty refresh token.
func RefreshRotates(t *testing.T, d provider.Driver, key tokenstore.Key, tok *provider.Token) *provider.Token {
	t.Helper()
	r, ok := d.(provider.Refresher)
	if !ok {
		t.Fatalf("logintest: driver %s does not refresh", d.Describe().Name)
	}
	now := time.Now()
	store := &tokenstore.Store{Now: func() time.Time { return now }}
	store.Put(key, tok)
	now = tok.Expiry.Add(time.Minute)
	fresh, err := store.Token(Context(t), key, r)
	if err != nil {
		t.Fatalf("logintest: refresh of an expired token: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
		t.Fatalf("logintest: refresh did not rotate: old %v new %v", tok, fresh)
	}
	return fresh
}
