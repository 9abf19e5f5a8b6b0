package oidc

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/provider"
)

// StartDevice requests a device code (RFC 8628 §3.1).
func (d *Driver) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	if m.DeviceAuthorizationEndpoint == "" {
		return nil, fmt.Errorf("oidc: %s advertises no device_authorization_endpoint: %w", m.Issuer, provider.ErrGrantUnsupported)
	}
	scopes = d.scopes(scopes)
	r, err := d.oauth2Config(m, "", scopes).DeviceAuth(d.clientContext(ctx), d.extraParams()...)
	if err != nil {
		return nil, tokenEndpointError("device_authorization", err)
	}
	if r.DeviceCode == "" || r.UserCode == "" || r.VerificationURI == "" {
		return nil, fmt.Errorf("oidc: device authorization response from %s lacks device_code, user_code or verification_uri", m.DeviceAuthorizationEndpoint)
	}
	if err := checkVerificationURI(m.Issuer, r.VerificationURI); err != nil {
		return nil, err
	}
	// x/oauth2 computes Expiry from time.Now; rebase it on the driver's
	// clock, which the host's poller shares (tests inject both).
	expires := time.Time{}
	if !r.Expiry.IsZero() {
		expires = d.cfg.Now().Add(time.Until(r.Expiry))
	}
	return &provider.DeviceAuthorization{
		DeviceCode:              r.DeviceCode,
		UserCode:                r.UserCode,
		VerificationURI:         r.VerificationURI,
		VerificationURIComplete: r.VerificationURIComplete,
		ExpiresAt:               expires,
		Interval:                time.Duration(r.Interval) * time.Second,
		Scopes:                  scopes,
	}, nil
}

// checkVerificationURI refuses a verification URI that is not https (or
// loopback http): it is shown to the user as the place to log in.
func checkVerificationURI(issuer, uri string) error {
	if err := provider.CheckEndpointURL("verification_uri", uri); err != nil {
		return fmt.Errorf("oidc: device authorization from %s: %w", issuer, err)
	}
	return nil
}

// PollDevice makes exactly one device access token request (RFC 8628
// §3.4); the host's poller owns the loop and its timing.
func (d *Driver) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (*provider.Token, error) {
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	return d.tokenRequest(ctx, m, url.Values{
		"grant_type":  {provider.GrantTypeDeviceCode},
		"device_code": {da.DeviceCode},
	})
}

// extraParams are Config.ExtraParams as x/oauth2 options.
func (d *Driver) extraParams() []oauth2.AuthCodeOption {
	opts := make([]oauth2.AuthCodeOption, 0, len(d.cfg.ExtraParams))
	for k, v := range d.cfg.ExtraParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return opts
}
