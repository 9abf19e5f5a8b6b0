package github_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/github"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

func TestPKCELogin(t *testing.T) {
	t.Run("OAuth App", func(t *testing.T) {
		f := newFakeGitHub(t, nil)
		d := newDriver(t, f, nil)
		tok, err := logintest.PKCELogin(t, d, login.PreferPKCE, []string{"repo", "read:org"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tok.Scopes, []string{"read:org", "repo"}) || !tok.Expiry.IsZero() || tok.RefreshToken != "" {
			t.Fatalf("token = %v", tok)
		}
		if id, err := d.(provider.Identifier).Identity(logintest.Context(t), tok); err != nil || id.DisplayName != "octocat" {
			t.Fatalf("identity = %+v, %v", id, err)
		}
	})
	t.Run("GitHub App with refresh-token rotation", func(t *testing.T) {
		f := newFakeGitHub(t, func(f *fakeGitHub) { f.githubApp = true })
		d := newDriver(t, f, nil)
		ctx := logintest.Context(t)
		tok, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tok.RefreshToken == "" || tok.Expiry.IsZero() {
			t.Fatalf("token = %v, want expiry and refresh token", tok)
		}
		id, err := d.(provider.Identifier).Identity(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		key := tokenstore.Key{Issuer: f.URL, ClientID: f.clientID, Subject: id.Subject}
		fresh := logintest.RefreshRotates(t, d, key, tok)
		if _, err := d.(provider.Identifier).Identity(ctx, fresh); err != nil {
			t.Fatalf("refreshed token refused: %v", err)
		}
		// The spent refresh token is refused, with GitHub's explanation.
		_, err = d.(provider.Refresher).Refresh(ctx, tok)
		var oe *provider.OAuthError
		if !errors.Is(err, provider.ErrInvalidGrant) || !errors.As(err, &oe) || oe.Code != "bad_refresh_token" || !strings.Contains(err.Error(), "rotates") {
			t.Fatalf("old refresh token: err = %v", err)
		}
		// The rotated one works, and rotates again.
		logintest.RefreshRotates(t, d, key, fresh)
	})
}

// TestExchangeErrors shows the fake checks what GitHub checks: the PKCE
// verifier, the redirect URI and single use of the code.
func TestExchangeErrors(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const redirect = "http://127.0.0.1:5555/callback"
	f := newFakeGitHub(t, nil)
	d := newDriver(t, f, nil)
	ctx := logintest.Context(t)
	ex := d.(provider.CodeExchanger)

	tests := []struct {
		name, verifier, redirect string
		code                     string
	}{
		{"wrong verifier", "wrong-verifier-wrong-verifier-wrong-verifier-1", redirect, "bad_verification_code"},
		{"other redirect URI", verifier, "http://127.0.0.1:6666/callback", "redirect_uri_mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := logintest.AuthorizationCode(t, d, logintest.S256(verifier), redirect)
			_, err := ex.Exchange(ctx, code, tt.verifier, tt.redirect)
			var oe *provider.OAuthError
			if !errors.Is(err, provider.ErrInvalidGrant) || !errors.As(err, &oe) || oe.Code != tt.code {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
	t.Run("code used twice", func(t *testing.T) {
		code := logintest.AuthorizationCode(t, d, logintest.S256(verifier), redirect)
		if _, err := ex.Exchange(ctx, code, verifier, redirect); err != nil {
			t.Fatal(err)
		}
		if _, err := ex.Exchange(ctx, code, verifier, redirect); !errors.Is(err, provider.ErrInvalidGrant) {
			t.Fatalf("second use: err = %v", err)
		}
	})
}

func TestAuthCodeURL(t *testing.T) {
	ctx := logintest.Context(t)
	req := provider.AuthCodeRequest{State: "s", CodeChallenge: "c", RedirectURI: "http://127.0.0.1:1/callback"}
	tests := []struct {
		name      string
		scopes    []string
		wantScope string
		hasScope  bool
	}{
		{"configured scopes, space-separated", nil, "repo read:org", true},
		{"requested scopes win", []string{"gist"}, "gist", true},
	}
	d, err := github.New(github.Config{ClientID: "Iv1.x", Scopes: []string{"repo", "read:org"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req
			r.Scopes = tt.scopes
			u, err := d.AuthCodeURL(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			pu, _ := url.Parse(u)
			q := pu.Query()
			if pu.Scheme+"://"+pu.Host+pu.Path != "https://github.com/login/oauth/authorize" ||
				q.Get("client_id") != "Iv1.x" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != "c" ||
				q.Get("state") != "s" || q.Get("redirect_uri") != req.RedirectURI || q.Get("scope") != tt.wantScope {
				t.Fatalf("URL = %s", u)
			}
		})
	}
	t.Run("no scope parameter without scopes", func(t *testing.T) {
		d, _ := github.New(github.Config{ClientID: "Iv1.x"})
		u, _ := d.AuthCodeURL(ctx, req)
		if pu, _ := url.Parse(u); pu.Query().Has("scope") {
			t.Fatalf("URL = %s", u)
		}
	})
}
