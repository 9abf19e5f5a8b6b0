package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/provider"
)

// maxResponse caps every response body read.
const maxResponse = 1 << 20

// errorHints explains GitHub's own error codes (GitHub docs, "Authorizing
// OAuth apps", error codes for the device flow and troubleshooting token
// request errors) and maps them to the provider sentinels. Standard RFC 6749
// and RFC 8628 codes already match their sentinels and pass through as is.
var errorHints = map[string]struct {
	sentinel error
	hint     string
}{
	"device_flow_disabled": {provider.ErrGrantUnsupported,
		"the app has not enabled the device flow: turn on \"Enable Device Flow\" in the app's settings on GitHub (Settings → Developer settings → OAuth Apps or GitHub Apps → the app), or log in with grant: pkce, which works without it"},
	"incorrect_client_credentials": {provider.ErrInvalidClient,
		"GitHub does not recognise the client_id: check the app's Client ID"},
	"incorrect_device_code": {provider.ErrInvalidGrant,
		"GitHub does not recognise the device code"},
	"bad_verification_code": {provider.ErrInvalidGrant,
		"the authorization code is wrong, expired or already used"},
	"bad_refresh_token": {provider.ErrInvalidGrant,
		"the refresh token is invalid, expired or already used (GitHub rotates refresh tokens: each works once)"},
	"redirect_uri_mismatch": {provider.ErrInvalidGrant,
		"the redirect URI does not match the app's callback URL: register http://127.0.0.1/callback (GitHub accepts any port on a loopback callback)"},
	"unverified_user_email": {nil,
		"the GitHub account has no verified email address"},
	"unsupported_grant_type": {nil,
		"GitHub does not accept the grant type for this app"},
}

// Hints for incorrect_client_credentials on the code exchange and refresh,
// which (unlike the device flow) authenticate the client with its secret.
const (
	hintNoSecret = "GitHub's code exchange, and the refresh of a token from it, need the app's client secret even with PKCE (GitHub has no public clients): set client_secret in the provider's configuration, or log in with grant: device, which needs none"
	hintBadCreds = "GitHub does not recognise the Client ID or the client secret: check both against the app's settings (a regenerated secret replaces the old one)"
)

// grantFlow is which of GitHub's flows a request belongs to, for the hint.
type grantFlow int

const (
	deviceFlow grantFlow = iota
	webFlow              // code exchange and refresh: client_secret applies
)

// translate adds GitHub's explanation to an error response and makes it
// match the provider sentinel for GitHub's own codes.
func (d *Driver) translate(flow grantFlow, err error) error {
	var oe *provider.OAuthError
	if err == nil || !errors.As(err, &oe) {
		return err
	}
	h, ok := errorHints[oe.Code]
	if ok && oe.Code == "incorrect_client_credentials" && flow == webFlow {
		h.hint = hintBadCreds
		if d.cfg.ClientSecret == "" {
			h.hint = hintNoSecret
		}
	}
	switch {
	case !ok:
		return err
	case h.sentinel == nil:
		return fmt.Errorf("github: %s: %w", h.hint, err)
	}
	return fmt.Errorf("github: %s: %w: %w", h.hint, h.sentinel, err)
}

// deviceResponse is GitHub's device code response, or an error.
type deviceResponse struct {
	DeviceCode       string      `json:"device_code"`
	UserCode         string      `json:"user_code"`
	VerificationURI  string      `json:"verification_uri"`
	ExpiresIn        json.Number `json:"expires_in"`
	Interval         json.Number `json:"interval"`
	Error            string      `json:"error"`
	ErrorDescription string      `json:"error_description"`
	ErrorURI         string      `json:"error_uri"`
}

// StartDevice requests a device code (POST /login/device/code). It asks for
// JSON; a form-encoded reply (what GitHub sends without Accept) is read too.
func (d *Driver) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	scopes = d.scopes(scopes)
	form := url.Values{"client_id": {d.cfg.ClientID}}
	for k, v := range d.cfg.ExtraParams {
		form.Set(k, v)
	}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	status, ct, body, err := d.post(ctx, d.meta.DeviceAuthorizationEndpoint, form)
	if err != nil {
		return nil, err
	}
	var r deviceResponse
	if isForm(ct) {
		v, perr := url.ParseQuery(string(body))
		err = perr
		r = deviceResponse{
			DeviceCode: v.Get("device_code"), UserCode: v.Get("user_code"), VerificationURI: v.Get("verification_uri"),
			ExpiresIn: json.Number(v.Get("expires_in")), Interval: json.Number(v.Get("interval")),
			Error: v.Get("error"), ErrorDescription: v.Get("error_description"), ErrorURI: v.Get("error_uri"),
		}
	} else {
		err = json.Unmarshal(body, &r)
	}
	if err != nil {
		// The decoders' errors may quote the body; name the content type only.
		return nil, &provider.OAuthError{Endpoint: "device_authorization", Code: "invalid_response", StatusCode: status,
			Description: fmt.Sprintf("unparseable %s response (%d bytes)", contentKind(ct), len(body))}
	}
	if r.Error != "" {
		return nil, d.translate(deviceFlow, &provider.OAuthError{Endpoint: "device_authorization", Code: r.Error,
			Description: r.ErrorDescription, URI: r.ErrorURI, StatusCode: status})
	}
	if status != http.StatusOK || r.DeviceCode == "" || r.UserCode == "" || r.VerificationURI == "" {
		return nil, &provider.OAuthError{Endpoint: "device_authorization", Code: "invalid_response", StatusCode: status,
			Description: fmt.Sprintf("no device_code, user_code or verification_uri in the %s response", contentKind(ct))}
	}
	if err := provider.CheckEndpointURL("verification_uri", r.VerificationURI); err != nil {
		return nil, fmt.Errorf("github: device code from %s: %w", d.cfg.BaseURL, err)
	}
	da := &provider.DeviceAuthorization{
		DeviceCode:      r.DeviceCode,
		UserCode:        r.UserCode,
		VerificationURI: r.VerificationURI,
		Scopes:          scopes,
	}
	if n, err := strconv.ParseFloat(r.ExpiresIn.String(), 64); err == nil && n > 0 {
		da.ExpiresAt = d.cfg.Now().Add(time.Duration(n) * time.Second)
	}
	if n, err := strconv.ParseFloat(r.Interval.String(), 64); err == nil && n > 0 {
		da.Interval = time.Duration(n) * time.Second
	}
	return da, nil
}

// PollDevice makes one token request for the device code. GitHub answers
// pending, slow_down (with the new interval) and every other error with
// HTTP 200; the generic driver reads those as errors.
func (d *Driver) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (*provider.Token, error) {
	t, err := d.device.PollDevice(ctx, da)
	return t, d.translate(deviceFlow, err)
}

// AuthCodeURL builds the authorization request. An empty scope list sends
// no scope parameter: GitHub then grants an OAuth App public read access
// only, and a GitHub App its permissions.
func (d *Driver) AuthCodeURL(_ context.Context, req provider.AuthCodeRequest) (string, error) {
	c := &oauth2.Config{
		ClientID:    d.cfg.ClientID,
		RedirectURL: req.RedirectURI,
		Scopes:      d.scopes(req.Scopes),
		Endpoint:    oauth2.Endpoint{AuthURL: d.meta.AuthorizationEndpoint},
	}
	opts := []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("code_challenge", req.CodeChallenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
	}
	for k, v := range d.cfg.ExtraParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return c.AuthCodeURL(req.State, opts...), nil
}

// Exchange redeems the code with its PKCE verifier and the client secret:
// GitHub does not tell public from confidential clients, so the exchange
// fails with incorrect_client_credentials without the secret, PKCE or not.
// GitHub replies form-encoded (scopes comma-separated), errors with HTTP 200.
func (d *Driver) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	t, err := d.Driver.Exchange(ctx, code, verifier, redirect)
	return t, d.translate(webFlow, err)
}

// Refresh renews an expiring user token: a GitHub App's, or an OAuth App's
// with token expiration on. The reply carries a new refresh token and the
// old one stops working (rotation). The client secret is sent when
// configured; GitHub wants it unless the token came from the device flow.
func (d *Driver) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	nt, err := d.Driver.Refresh(ctx, t)
	return nt, d.translate(webFlow, err)
}

// post sends a form asking for JSON and returns the capped reply.
func (d *Driver) post(ctx context.Context, endpoint string, form url.Values) (status int, contentType string, body []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", nil, fmt.Errorf("github: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, "", nil, fmt.Errorf("github: POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, "", nil, fmt.Errorf("github: reading %s: %w", endpoint, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body, nil
}

func isForm(contentType string) bool {
	ct, _, _ := mime.ParseMediaType(contentType)
	return ct == "application/x-www-form-urlencoded" || ct == "text/plain"
}

// contentKind names a reply's format for an error message.
func contentKind(contentType string) string {
	if isForm(contentType) {
		return "form-encoded"
	}
	if ct, _, _ := mime.ParseMediaType(contentType); ct != "" && ct != "application/json" {
		return fmt.Sprintf("%q (read as JSON)", ct)
	}
	return "JSON"
}
