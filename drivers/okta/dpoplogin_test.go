package okta_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

// TestDPoP: an app that requires DPoP. The driver discovers it on the first
// token request (or is told), signs proofs the fake verifies, follows the
// use_dpop_nonce retry, and keeps the key for refresh.
func TestDPoP(t *testing.T) {
	tests := []struct {
		name        string
		requireDPoP bool
		// firstPoll is the token requests the first poll takes: without a
		// proof → invalid_dpop_proof; with a proof but no nonce →
		// use_dpop_nonce; with the nonce → authorization_pending.
		firstPoll int
	}{
		{"discovered from invalid_dpop_proof", false, 3},
		{"configured", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOkta(t, func(f *fakeOkta) { f.requireDPoP = true })
			d, logs := newDriver(t, f.customIssuer(), func(c *okta.Config) { c.RequireDPoP = tt.requireDPoP })
			const tokenPath = "/oauth2/default/v1/token"
			tok, _, _, err := deviceLogin(t, f, d, nil, 2)
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "DPoP" || tok.RefreshToken == "" {
				t.Fatalf("token = %v, want a DPoP-bound token with a refresh token", tok)
			}
			// first poll, then one request per poll with the nonce kept.
			if got, want := f.Requests(tokenPath), tt.firstPoll+2; got != want {
				t.Errorf("token requests = %d, want %d", got, want)
			}
			if got, want := f.proofCount(), f.Requests(tokenPath)-(tt.firstPoll-2); got != want {
				t.Errorf("proofs = %d, want %d", got, want)
			}
			if !strings.Contains(logs.String(), "DPoP-bound") {
				t.Errorf("the DPoP-bound token was not logged: %s", logs)
			}
			if !tt.requireDPoP && !strings.Contains(logs.String(), "requires DPoP") {
				t.Errorf("turning DPoP on was not logged: %s", logs)
			}

			// Refresh with the same key: one request, the nonce kept.
			ctx := logintest.Context(t)
			before := f.Requests(tokenPath)
			fresh, err := d.(provider.Refresher).Refresh(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Requests(tokenPath) - before; got != 1 || fresh.TokenType != "DPoP" {
				t.Errorf("refresh took %d requests, token %v", got, fresh)
			}
			// Okta retires its nonce: one use_dpop_nonce retry.
			f.set(func(f *fakeOkta) { f.nonce = logintest.RandomString() })
			before = f.Requests(tokenPath)
			fresh, err = d.(provider.Refresher).Refresh(ctx, fresh)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Requests(tokenPath) - before; got != 2 {
				t.Errorf("refresh after a nonce change took %d requests, want 2", got)
			}
			// Another driver has another key: the bound refresh token is
			// refused, and the error says it is about DPoP.
			other, _ := newDriver(t, f.customIssuer(), func(c *okta.Config) { c.RequireDPoP = true })
			_, err = other.(provider.Refresher).Refresh(ctx, fresh)
			var oe *provider.OAuthError
			if !errors.As(err, &oe) || oe.Code != "invalid_dpop_proof" || !strings.Contains(err.Error(), "DPoP") ||
				!strings.Contains(err.Error(), "key") {
				t.Fatalf("refresh with another key: err = %v", err)
			}
			// The refresh token was not spent by the refused attempt.
			if _, err := d.(provider.Refresher).Refresh(ctx, fresh); err != nil {
				t.Fatalf("refresh with the right key afterwards: %v", err)
			}
		})
	}
	t.Run("PKCE", func(t *testing.T) {
		f := newFakeOkta(t, func(f *fakeOkta) { f.requireDPoP = true })
		d, _ := newDriver(t, f.orgIssuer(), nil)
		tok, err := pkceLogin(t, f, d)
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "DPoP" || f.Requests("/oauth2/v1/token") != 3 {
			t.Fatalf("token = %v after %d token requests", tok, f.Requests("/oauth2/v1/token"))
		}
		// The ID token identifies the user; the DPoP-bound access token is
		// not sent to userinfo as a Bearer token.
		if id, err := d.(provider.Identifier).Identity(logintest.Context(t), tok); err != nil || id.Subject == "" {
			t.Fatalf("identity = %+v, %v", id, err)
		}
	})
}
