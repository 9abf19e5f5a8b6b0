package google

import (
	"context"
	"encoding/json"
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

// maxTokenResponse caps a token response body.
const maxTokenResponse = 1 << 20

// errRateLimit is the error_code of Google's quota refusal of a poll.
const errRateLimit = "rate_limit_exceeded"

// Where the OAuth client and consent screen settings live.
const (
	credentialsSetting = "Google Cloud console → APIs & Services → Credentials"
	consentSetting     = "Google Cloud console → APIs & Services → OAuth consent screen → Publishing status"
)

type operation int

const (
	opDevice operation = iota
	opCode
	opRefresh
)

// translate says what to change for Google's refusals.
func translate(op operation, err error) error {
	var oe *provider.OAuthError
	if err == nil || !errors.As(err, &oe) {
		return err
	}
	switch oe.Code {
	case "invalid_client", "unauthorized_client":
		if op == opDevice {
			return fmt.Errorf("google: Google refused the client for the device grant: it must be an OAuth client of type \"TVs and Limited Input devices\" with its secret (%s): %w", credentialsSetting, err)
		}
		return fmt.Errorf("google: Google refused the client: use a \"Desktop app\" OAuth client with its client_secret (%s): %w", credentialsSetting, err)
	case "invalid_grant":
		if op == opRefresh {
			return fmt.Errorf("google: the refresh token was refused: it was revoked or expired — refresh tokens of apps in \"Testing\" status expire after 7 days (%s: publish the app to lift that): %w", consentSetting, err)
		}
	case "admin_policy_enforced":
		return fmt.Errorf("google: the Google Workspace administrator does not allow this app or these scopes: %w", err)
	case "org_internal":
		return fmt.Errorf("google: the app is Internal to another Google Workspace organization; the account must belong to it: %w", err)
	}
	return err
}

// StartDevice refuses scopes Google does not allow on the device grant,
// and a client without a secret, before asking for a code.
func (d *Driver) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	if len(scopes) == 0 {
		scopes = d.cfg.Scopes
	}
	for _, s := range scopes {
		if !slices.Contains(DeviceScopes, s) {
			return nil, fmt.Errorf("google: scope %q is not allowed on Google's device grant (only %s): use the PKCE login (grant: pkce): %w",
				s, strings.Join(DeviceScopes, ", "), provider.ErrGrantUnsupported)
		}
	}
	if err := d.needSecret(); err != nil {
		return nil, err
	}
	da, err := d.Driver.StartDevice(ctx, scopes)
	if err != nil {
		return nil, translate(opDevice, err)
	}
	if err := checkVerificationURL(da.VerificationURI); err != nil {
		return nil, err
	}
	return da, nil
}

// PollDevice makes one device token request. Google answers with
// non-standard statuses, so the reply is read by its error field; its
// quota refusal has no error field, only error_code rate_limit_exceeded,
// and is returned as slow_down (Google's error_code kept in the description).
func (d *Driver) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (*provider.Token, error) {
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":    {provider.GrantTypeDeviceCode},
		"device_code":   {da.DeviceCode},
		"client_id":     {d.cfg.ClientID},
		"client_secret": {d.cfg.ClientSecret},
	}
	for k, v := range d.cfg.ExtraParams {
		if !form.Has(k) {
			form.Set(k, v)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("google: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("google: token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return nil, fmt.Errorf("google: reading token response: %w", err)
	}
	var quota struct {
		Error     json.RawMessage `json:"error"`
		ErrorCode string          `json:"error_code"`
	}
	if json.Unmarshal(body, &quota) == nil && quota.Error == nil && quota.ErrorCode == errRateLimit {
		return nil, &provider.OAuthError{Endpoint: "token", Code: "slow_down", StatusCode: resp.StatusCode,
			Description: errRateLimit + ": the project's device grant quota is exhausted"}
	}
	t, err := oidc.ParseTokenResponse(resp.StatusCode, resp.Header.Get("Content-Type"), body, d.cfg.Now())
	return t, translate(opDevice, err)
}

func (d *Driver) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	if err := d.needSecret(); err != nil {
		return "", err
	}
	return d.Driver.AuthCodeURL(ctx, req)
}

func (d *Driver) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	t, err := d.Driver.Exchange(ctx, code, verifier, redirect)
	return t, translate(opCode, err)
}

// Refresh redeems the refresh token. Google does not rotate it: the
// response has none, and the one used is kept.
func (d *Driver) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	nt, err := d.Driver.Refresh(ctx, t)
	if err != nil {
		return nil, translate(opRefresh, err)
	}
	if nt.RefreshToken == "" {
		nt.RefreshToken = t.RefreshToken
	}
	return nt, nil
}
