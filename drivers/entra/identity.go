package entra

import (
	"context"
	"errors"
	"fmt"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/mcpauth/mcpauth/provider"
)

// Identity says who the token belongs to, from its ID token verified with
// go-oidc against the tenant's keys. go-oidc's issuer check is replaced by
// the tenant's (a multi-tenant issuer is a template filled in with the
// token's tid). The subject is tid/oid, the user's object in their
// directory, which is the same for every app; sub is per app. Without an ID
// token the generic driver asks userinfo.
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
		return nil, fmt.Errorf("entra: ID token: %w", err)
	}
	var claims struct {
		Issuer            string `json:"iss"`
		TenantID          string `json:"tid"`
		ObjectID          string `json:"oid"`
		Sub               string `json:"sub"`
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("entra: ID token claims: %w", err)
	}
	d.mu.Lock()
	pinned := d.pinned
	d.mu.Unlock()
	want, err := d.tenant.TokenIssuer(pinned, claims.TenantID)
	if err != nil {
		return nil, err
	}
	if claims.Issuer != want {
		return nil, fmt.Errorf("entra: ID token issuer %q, want %q: %w", claims.Issuer, want, provider.ErrIssuerMismatch)
	}
	id := &provider.Identity{Subject: claims.Sub}
	if claims.TenantID != "" && claims.ObjectID != "" {
		id.Subject = strings.ToLower(claims.TenantID + "/" + claims.ObjectID)
	}
	for _, n := range []string{claims.Name, claims.PreferredUsername, claims.Email} {
		if n != "" {
			id.DisplayName = n
			break
		}
	}
	return id, nil
}

// idTokenVerifier builds, once, a verifier for the tenant's keys that
// checks signature, audience and expiry; the issuer is checked by Identity.
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
		return nil, errors.New("entra: the metadata has no jwks_uri; identity unavailable")
	}
	keys := gooidc.NewRemoteKeySet(gooidc.ClientContext(context.WithoutCancel(ctx), d.cfg.HTTPClient), m.JWKSURI)
	d.verifier = gooidc.NewVerifier(m.Issuer, keys, &gooidc.Config{
		ClientID: d.cfg.ClientID, SkipIssuerCheck: true, Now: d.cfg.Now,
		SupportedSigningAlgs: m.IDTokenSigningAlgValuesSupported,
	})
	return d.verifier, nil
}
