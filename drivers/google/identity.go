package google

import (
	"context"
	"errors"
	"fmt"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/mcpauth/mcpauth/provider"
)

// Identity says who the token belongs to, from its ID token verified with
// go-oidc against Google's keys, else userinfo. Google's ID tokens may name
// the issuer without its scheme (accounts.google.com); both forms are
// accepted, and only those.
func (d *Driver) Identity(ctx context.Context, t *provider.Token) (*provider.Identity, error) {
	if t.IDToken == "" {
		return d.Driver.Identity(ctx, t)
	}
	v, err := d.idTokenVerifier(ctx)
	if err != nil {
		return nil, err
	}
	idt, err := v.Verify(gooidc.ClientContext(ctx, d.cfg.HTTPClient), t.IDToken)
	if err != nil {
		return nil, fmt.Errorf("google: ID token: %w", err)
	}
	if iss := idt.Issuer; iss != d.cfg.Issuer && "https://"+iss != d.cfg.Issuer && "http://"+iss != d.cfg.Issuer {
		return nil, fmt.Errorf("google: ID token issuer %q, want %q: %w", iss, d.cfg.Issuer, provider.ErrIssuerMismatch)
	}
	var claims struct {
		Sub   string `json:"sub"`
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("google: ID token claims: %w", err)
	}
	id := &provider.Identity{Subject: claims.Sub, DisplayName: claims.Email}
	if claims.Name != "" && claims.Email != "" {
		id.DisplayName = claims.Name + " <" + claims.Email + ">"
	} else if claims.Name != "" {
		id.DisplayName = claims.Name
	}
	return id, nil
}

// idTokenVerifier builds, once, a verifier that checks signature, audience
// and expiry; Identity checks the issuer.
func (d *Driver) idTokenVerifier(ctx context.Context) (*gooidc.IDTokenVerifier, error) {
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.verifier != nil {
		return d.verifier, nil
	}
	if m.JWKSURI == "" {
		return nil, errors.New("google: the metadata has no jwks_uri; identity unavailable")
	}
	keys := gooidc.NewRemoteKeySet(gooidc.ClientContext(context.WithoutCancel(ctx), d.cfg.HTTPClient), m.JWKSURI)
	d.verifier = gooidc.NewVerifier(strings.TrimSuffix(m.Issuer, "/"), keys, &gooidc.Config{
		ClientID: d.cfg.ClientID, SkipIssuerCheck: true, Now: d.cfg.Now,
		SupportedSigningAlgs: m.IDTokenSigningAlgValuesSupported,
	})
	return d.verifier, nil
}
