package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// maxTokenResponse caps a token response body.
const maxTokenResponse = 1 << 20

// pollDevice makes exactly one device access token request (RFC 8628 §3.4).
// x/oauth2's DeviceAccessToken owns its own polling loop and timing, so the
// single request the host-side poller needs is made here.
func (d *driver) pollDevice(ctx context.Context, m *provider.AuthServerMetadata, da *provider.DeviceAuthorization) (*provider.Token, error) {
	form := url.Values{
		"grant_type":  {provider.GrantTypeDeviceCode},
		"device_code": {da.DeviceCode},
		"client_id":   {d.cfg.ClientID},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("oidc: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if d.cfg.ClientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(d.cfg.ClientID), url.QueryEscape(d.cfg.ClientSecret))
	}
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidc: token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return nil, fmt.Errorf("oidc: reading token response: %w", err)
	}
	return ParseTokenResponse(resp.StatusCode, resp.Header.Get("Content-Type"), body, d.cfg.Now())
}

// tokenResponse holds the fields of a token response (RFC 6749 §5.1) or
// error response (§5.2), plus the interval GitHub adds to slow_down.
type tokenResponse struct {
	AccessToken      string      `json:"access_token"`
	TokenType        string      `json:"token_type"`
	RefreshToken     string      `json:"refresh_token"`
	IDToken          string      `json:"id_token"`
	ExpiresIn        json.Number `json:"expires_in"`
	Scope            string      `json:"scope"`
	Error            string      `json:"error"`
	ErrorDescription string      `json:"error_description"`
	ErrorURI         string      `json:"error_uri"`
	Interval         json.Number `json:"interval"`
}

// ParseTokenResponse reads a token endpoint reply, JSON or form-encoded.
// Any reply carrying "error", whatever its status (GitHub answers errors
// with 200), and any reply without an access_token is an error, returned
// as a *provider.OAuthError.
func ParseTokenResponse(status int, contentType string, body []byte, now time.Time) (*provider.Token, error) {
	var r tokenResponse
	ct, _, _ := mime.ParseMediaType(contentType)
	switch ct {
	case "application/x-www-form-urlencoded", "text/plain":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &provider.OAuthError{Endpoint: "token", Code: "invalid_response", StatusCode: status,
				Description: "unparseable form-encoded response: " + excerpt(body)}
		}
		r = tokenResponse{
			AccessToken: v.Get("access_token"), TokenType: v.Get("token_type"), RefreshToken: v.Get("refresh_token"),
			IDToken: v.Get("id_token"), ExpiresIn: json.Number(v.Get("expires_in")), Scope: v.Get("scope"),
			Error: v.Get("error"), ErrorDescription: v.Get("error_description"), ErrorURI: v.Get("error_uri"),
			Interval: json.Number(v.Get("interval")),
		}
	default:
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, &provider.OAuthError{Endpoint: "token", Code: "invalid_response", StatusCode: status,
				Description: "unparseable response: " + excerpt(body)}
		}
	}
	if r.Error != "" {
		oe := &provider.OAuthError{Endpoint: "token", Code: r.Error, Description: r.ErrorDescription, URI: r.ErrorURI, StatusCode: status}
		if n, err := strconv.Atoi(r.Interval.String()); err == nil && n > 0 {
			oe.Interval = time.Duration(n) * time.Second
		}
		return nil, oe
	}
	if status < 200 || status > 299 || r.AccessToken == "" {
		return nil, &provider.OAuthError{Endpoint: "token", Code: "invalid_response", StatusCode: status,
			Description: "no access_token and no error in the response"}
	}
	t := &provider.Token{
		AccessToken:  r.AccessToken,
		TokenType:    r.TokenType,
		RefreshToken: r.RefreshToken,
		IDToken:      r.IDToken,
		Scopes:       ParseScopes(r.Scope),
	}
	if t.TokenType == "" {
		t.TokenType = "Bearer"
	}
	if n, err := strconv.Atoi(r.ExpiresIn.String()); err == nil && n > 0 {
		t.Expiry = now.Add(time.Duration(n) * time.Second)
	}
	return t, nil
}
