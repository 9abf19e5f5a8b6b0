package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

const (
	// revocationTimeout bounds each revocation request: a logout must not
	// hang on a server that does not answer, whatever the HTTP client's own
	// timeout (an injected client may have none).
	revocationTimeout = 15 * time.Second
	// maxRevocationResponse caps what is read of a revocation reply: a
	// success has an empty body (RFC 7009 §2.2), an error a small JSON
	// object (§2.2.1).
	maxRevocationResponse = 64 << 10
)

var _ provider.Revoker = (*Driver)(nil)

// Revoke revokes t's refresh token, then its access token, at the
// metadata's revocation_endpoint (RFC 7009 §2.1; Config.Endpoints.Revocation
// overrides it), authenticating the client as for the token endpoint (a
// public client sends client_id). The refresh token goes first so the grant
// cannot mint a new access token in between.
//
// 200 means revoked, or already invalid (§2.2); so does an invalid_token
// error, which some servers send for a token they no longer know. An
// access token the server answers unsupported_token_type for, with and
// without the token_type_hint, cannot be revoked (a self-contained JWT) and
// is left to expire. Both tokens are tried whatever happens to the first;
// failures come back joined, each a *provider.OAuthError where the server
// answered one. Without a revocation_endpoint the error matches
// provider.ErrRevocationUnsupported.
func (d *Driver) Revoke(ctx context.Context, t *provider.Token) error {
	if t == nil {
		return errors.New("oidc: Revoke: no token")
	}
	m, err := d.Metadata(ctx)
	if err != nil {
		return err
	}
	if m.RevocationEndpoint == "" {
		return fmt.Errorf("oidc: %s advertises no revocation_endpoint: %w", m.Issuer, provider.ErrRevocationUnsupported)
	}
	var errs []error
	if t.RefreshToken != "" {
		if err := d.revokeOne(ctx, m, t.RefreshToken, "refresh_token"); err != nil {
			errs = append(errs, fmt.Errorf("oidc: revoking the refresh token: %w", err))
		}
	}
	if t.AccessToken != "" {
		err := d.revokeOne(ctx, m, t.AccessToken, "access_token")
		var oe *provider.OAuthError
		if errors.As(err, &oe) && oe.Code == "unsupported_token_type" {
			err = nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("oidc: revoking the access token: %w", err))
		}
	}
	return errors.Join(errs...)
}

// revokeOne revokes one token, with hint as token_type_hint, and once more
// without a hint if the server answers unsupported_token_type: the hint is
// only a hint (§2.1), and a server may refuse the hinted type yet know the
// token under another.
func (d *Driver) revokeOne(ctx context.Context, m *provider.AuthServerMetadata, token, hint string) error {
	err := d.revocationRequest(ctx, m, token, hint)
	var oe *provider.OAuthError
	if errors.As(err, &oe) && oe.Code == "unsupported_token_type" {
		err = d.revocationRequest(ctx, m, token, "")
	}
	if errors.As(err, &oe) && oe.Code == "invalid_token" {
		return nil // already dead: what revocation is for
	}
	return err
}

// revocationRequest makes one revocation request (RFC 7009 §2.1).
func (d *Driver) revocationRequest(ctx context.Context, m *provider.AuthServerMetadata, token, hint string) error {
	ctx, cancel := context.WithTimeout(ctx, revocationTimeout)
	defer cancel()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	basic := d.clientSecretBasic(m)
	if !basic {
		form.Set("client_id", d.cfg.ClientID)
		if d.cfg.ClientSecret != "" {
			form.Set("client_secret", d.cfg.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("oidc: revocation request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		// RFC 6749 §2.3.1: both parts form-encoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(d.cfg.ClientID), url.QueryEscape(d.cfg.ClientSecret))
	}
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("oidc: revocation request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRevocationResponse))
	if err != nil {
		return fmt.Errorf("oidc: reading revocation response: %w", err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	return revocationError(resp.StatusCode, resp.Header.Get("Content-Type"), body)
}

// revocationError reads a revocation error response (RFC 7009 §2.2.1: the
// RFC 6749 §5.2 fields) into a *provider.OAuthError. Like token errors it
// never quotes the body.
func revocationError(status int, contentType string, body []byte) error {
	ct, _, _ := mime.ParseMediaType(contentType)
	var (
		r   tokenResponse
		err error
	)
	switch ct {
	case "application/x-www-form-urlencoded", "text/plain":
		r, err = parseTokenForm(body)
	default:
		r, err = parseTokenJSON(body)
	}
	if err != nil || r.Error == "" {
		// An HTML error page, say, or a 503 from a proxy.
		return &provider.OAuthError{Endpoint: "revocation", Code: "invalid_response", StatusCode: status,
			Description: "no OAuth error in the response"}
	}
	return &provider.OAuthError{Endpoint: "revocation", Code: r.Error, Description: r.ErrorDescription, URI: r.ErrorURI, StatusCode: status}
}
