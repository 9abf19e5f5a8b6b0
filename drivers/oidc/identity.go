package oidc

import (
	"context"
	"errors"
	"fmt"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/provider"
)

// Identity says who the token belongs to: from the ID token, verified with
// go-oidc against the issuer's keys, else from the userinfo endpoint.
func (d *Driver) Identity(ctx context.Context, t *provider.Token) (*provider.Identity, error) {
	if _, err := d.Metadata(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	p := d.oidc
	d.mu.Unlock()
	if p == nil {
		return nil, errors.New("oidc: the issuer publishes no jwks_uri; identity unavailable")
	}
	ctx = gooidc.ClientContext(ctx, d.cfg.HTTPClient)
	var claims struct {
		Sub               string `json:"sub"`
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
	}
	switch {
	case t.IDToken != "":
		idt, err := p.VerifierContext(ctx, &gooidc.Config{ClientID: d.cfg.ClientID, Now: d.cfg.Now}).Verify(ctx, t.IDToken)
		if err != nil {
			return nil, fmt.Errorf("oidc: ID token: %w", err)
		}
		if err := idt.Claims(&claims); err != nil {
			return nil, fmt.Errorf("oidc: ID token claims: %w", err)
		}
	case p.UserInfoEndpoint() != "":
		ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: t.AccessToken, TokenType: "Bearer"}))
		if err != nil {
			return nil, fmt.Errorf("oidc: userinfo: %w", err)
		}
		if err := ui.Claims(&claims); err != nil {
			return nil, fmt.Errorf("oidc: userinfo claims: %w", err)
		}
	default:
		return nil, errors.New("oidc: no ID token and no userinfo endpoint; identity unavailable")
	}
	id := &provider.Identity{Subject: claims.Sub}
	for _, n := range []string{claims.Name, claims.PreferredUsername, claims.Email} {
		if n != "" {
			id.DisplayName = n
			break
		}
	}
	return id, nil
}
