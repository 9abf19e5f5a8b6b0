package entra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Entra's device grant error codes that RFC 8628 names otherwise.
const (
	// errDeclined: the user declined the sign-in (RFC 8628: access_denied).
	errDeclined = "authorization_declined"
	// errBadCode: the device code is not known (RFC 6749: invalid_grant).
	errBadCode = "bad_verification_code"
)

// maxTokenResponse caps a token response body.
const maxTokenResponse = 1 << 20

// Where the app registration settings live.
const (
	publicClientSetting = "Microsoft Entra admin center → App registrations → the app → Authentication → Advanced settings → Allow public client flows"
	redirectSetting     = "Authentication → Mobile and desktop applications → redirect URI http://localhost"
)

type operation int

const (
	opDevice operation = iota
	opCode
	opRefresh
)

// translate maps Entra's device grant codes onto the RFC ones and says
// which app registration setting to change for a refused client. A renamed
// code is rewritten in the *provider.OAuthError itself, Entra's code moving
// to the front of the description: the error crosses the plugin boundary as
// its RFC 6749 fields only, and the sentinels follow the code.
func translate(op operation, err error) error {
	var oe *provider.OAuthError
	if err == nil || !errors.As(err, &oe) {
		return err
	}
	switch oe.Code {
	case errDeclined:
		return fmt.Errorf("entra: the user declined the sign-in: %w", renamed(oe, "access_denied"))
	case errBadCode:
		return fmt.Errorf("entra: Entra does not know the device code: %w", renamed(oe, "invalid_grant"))
	case "invalid_client", "unauthorized_client":
		if op == opDevice {
			return fmt.Errorf("entra: Entra refused the client for the device grant: set %s to Yes: %w", publicClientSetting, err)
		}
		return fmt.Errorf("entra: Entra refused the client: a native app is a public client (no secret) registered under %s, with public client flows allowed: %w", redirectSetting, err)
	case "invalid_grant":
		if op == opRefresh {
			return fmt.Errorf("entra: the refresh token was refused (expired: 24 h for single-page-app redirect URIs, 90 days otherwise; or revoked): log in again: %w", err)
		}
	}
	return err
}

// renamed is oe under the RFC code, with Entra's code kept in the description.
func renamed(oe *provider.OAuthError, code string) *provider.OAuthError {
	r := *oe
	r.Code = code
	r.Description = strings.TrimSuffix(oe.Code+": "+oe.Description, ": ")
	return &r
}

func (d *Driver) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	scopes = d.scopes(scopes)
	if err := CheckScopes(scopes); err != nil {
		return nil, err
	}
	da, err := d.Driver.StartDevice(ctx, scopes)
	if err != nil {
		return nil, translate(opDevice, err)
	}
	if err := d.checkVerificationURI(da.VerificationURI); err != nil {
		return nil, err
	}
	return da, nil
}

// checkVerificationURI refuses a verification URI on a host that is neither
// one of VerificationHosts nor the issuer's: it is where the user types the
// code, so it must be Microsoft's.
func (d *Driver) checkVerificationURI(uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("entra: verification_uri is not a URL")
	}
	host := strings.ToLower(u.Hostname())
	issuer, _ := url.Parse(d.cfg.Issuer)
	if slices.Contains(VerificationHosts, host) || host == strings.ToLower(issuer.Hostname()) {
		return nil
	}
	return fmt.Errorf("entra: device authorization sends the user to %s, which is not a Microsoft verification host (%s)", host, strings.Join(VerificationHosts, ", "))
}

func (d *Driver) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (*provider.Token, error) {
	t, err := d.Driver.PollDevice(ctx, da)
	return t, translate(opDevice, err)
}

func (d *Driver) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	req.Scopes = d.scopes(req.Scopes)
	if err := CheckScopes(req.Scopes); err != nil {
		return "", err
	}
	return d.Driver.AuthCodeURL(ctx, req)
}

func (d *Driver) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	t, err := d.Driver.Exchange(ctx, code, verifier, redirect)
	return t, translate(opCode, err)
}

// Refresh redeems the refresh token naming the scopes again: Entra wants
// the scope parameter on refresh requests, which the generic driver does
// not send. Entra returns a new refresh token each time and leaves the old
// one valid; the newest is returned (the old one if none came back).
func (d *Driver) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	if t.RefreshToken == "" {
		return nil, fmt.Errorf("entra: token has no refresh token: %w", provider.ErrInvalidGrant)
	}
	scopes := refreshScopes(t.Scopes, d.scopes(nil))
	if err := CheckScopes(scopes); err != nil {
		return nil, err
	}
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":    {provider.GrantTypeRefreshToken},
		"refresh_token": {t.RefreshToken},
		"scope":         {strings.Join(scopes, " ")},
		"client_id":     {d.cfg.ClientID},
	}
	for k, v := range d.cfg.ExtraParams {
		if !form.Has(k) {
			form.Set(k, v)
		}
	}
	if d.cfg.Claims != "" {
		form.Set("claims", d.cfg.Claims)
	}
	if d.cfg.ClientSecret != "" {
		form.Set("client_secret", d.cfg.ClientSecret)
	}
	nt, err := d.postToken(ctx, m.TokenEndpoint, form)
	if err != nil {
		return nil, translate(opRefresh, err)
	}
	if nt.RefreshToken == "" {
		nt.RefreshToken = t.RefreshToken
	}
	return nt, nil
}

// postToken makes one token request and parses the reply with the generic
// driver's parser, which never quotes the body.
func (d *Driver) postToken(ctx context.Context, endpoint string, form url.Values) (*provider.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("entra: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("entra: token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return nil, fmt.Errorf("entra: reading token response: %w", err)
	}
	return oidc.ParseTokenResponse(resp.StatusCode, resp.Header.Get("Content-Type"), body, d.cfg.Now())
}
