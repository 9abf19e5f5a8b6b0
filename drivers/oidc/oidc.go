package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/provider"
)

// Name is the driver's name in configuration.
const Name = "oidc"

// Version is the driver's version, reported by Describe.
const Version = "0.1.0"

// Config configures the generic driver.
type Config struct {
	// Issuer is the authorization server's issuer identifier.
	Issuer string
	// ClientID is the OAuth client registered for this application (a
	// public native client: no secret, loopback redirects allowed).
	ClientID string
	// ClientSecret, if set, authenticates a confidential client. Native
	// apps should not have one (RFC 8252 §8.5).
	ClientSecret string
	// Scopes are the default scopes; used when a login asks for none.
	Scopes []string

	// Metadata is the authorization server's metadata, if known up front
	// (static for issuers that publish none, or already discovered).
	Metadata *provider.AuthServerMetadata
	// Discover finds the metadata on first use when Metadata is nil, so no
	// request is made before the first login (discovery.Discoverer.AuthServer
	// fits). One of Metadata and Discover is required.
	Discover func(ctx context.Context, issuer string) (*provider.AuthServerMetadata, error)

	// HTTPClient is used for token, device and userinfo requests; nil means
	// a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock for expiries; nil means time.Now.
	Now func() time.Time
}

// New returns the generic driver. It makes no request.
func New(cfg Config) (provider.Driver, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("oidc: Config.ClientID is required")
	}
	if cfg.Metadata == nil && cfg.Discover == nil {
		return nil, errors.New("oidc: Config.Metadata or Config.Discover is required")
	}
	if cfg.Metadata != nil {
		if cfg.Issuer == "" {
			cfg.Issuer = cfg.Metadata.Issuer
		}
		if cfg.Metadata.Issuer != cfg.Issuer {
			return nil, fmt.Errorf("oidc: metadata issuer %q differs from configured issuer %q: %w", cfg.Metadata.Issuer, cfg.Issuer, provider.ErrIssuerMismatch)
		}
		if err := cfg.Metadata.Validate(); err != nil {
			return nil, fmt.Errorf("oidc: %w", err)
		}
	} else if err := provider.CheckEndpointURL("issuer", cfg.Issuer); err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"openid"}
	}
	return &driver{cfg: cfg}, nil
}

// driver is the generic RFC 8414 / OpenID Connect driver.
type driver struct {
	cfg Config

	mu   sync.Mutex
	meta *provider.AuthServerMetadata
	oidc *gooidc.Provider
}

var (
	_ provider.Driver           = (*driver)(nil)
	_ provider.DeviceAuthorizer = (*driver)(nil)
	_ provider.CodeExchanger    = (*driver)(nil)
	_ provider.Refresher        = (*driver)(nil)
	_ provider.Challenger       = (*driver)(nil)
	_ provider.Identifier       = (*driver)(nil)
	_ provider.ClientRebinder   = (*driver)(nil)
)

// WithClientID returns a driver for the same issuer acting for another
// client (a CIMD URL). It shares the metadata already discovered.
func (d *driver) WithClientID(clientID string) (provider.Driver, error) {
	cfg := d.cfg
	cfg.ClientID = clientID
	cfg.ClientSecret = ""
	d.mu.Lock()
	if d.meta != nil {
		cfg.Metadata = d.meta
	}
	d.mu.Unlock()
	return New(cfg)
}

func (d *driver) Describe() provider.Description {
	return provider.Description{
		Name:          Name,
		Version:       Version,
		ClientID:      d.cfg.ClientID,
		Grants:        []provider.Grant{provider.GrantPKCE, provider.GrantDevice},
		DefaultScopes: slices.Clone(d.cfg.Scopes),
	}
}

func (d *driver) Metadata(ctx context.Context) (*provider.AuthServerMetadata, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.meta != nil {
		return d.meta, nil
	}
	m := d.cfg.Metadata
	if m == nil {
		var err error
		if m, err = d.cfg.Discover(ctx, d.cfg.Issuer); err != nil {
			return nil, err
		}
		if m.Issuer != d.cfg.Issuer {
			return nil, fmt.Errorf("oidc: discovered issuer %q, configured %q: %w", m.Issuer, d.cfg.Issuer, provider.ErrIssuerMismatch)
		}
	}
	d.meta = m
	if m.JWKSURI != "" {
		d.oidc = (&gooidc.ProviderConfig{
			IssuerURL:   m.Issuer,
			AuthURL:     m.AuthorizationEndpoint,
			TokenURL:    m.TokenEndpoint,
			UserInfoURL: m.UserinfoEndpoint,
			JWKSURL:     m.JWKSURI,
			Algorithms:  m.IDTokenSigningAlgValuesSupported,
		}).NewProvider(gooidc.ClientContext(context.WithoutCancel(ctx), d.cfg.HTTPClient))
	}
	return m, nil
}

// oauth2Config builds the x/oauth2 configuration for one request.
func (d *driver) oauth2Config(m *provider.AuthServerMetadata, redirect string, scopes []string) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if d.cfg.ClientSecret != "" && (len(m.TokenEndpointAuthMethodsSupported) == 0 ||
		slices.Contains(m.TokenEndpointAuthMethodsSupported, "client_secret_basic")) {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     d.cfg.ClientID,
		ClientSecret: d.cfg.ClientSecret,
		RedirectURL:  redirect,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:       m.AuthorizationEndpoint,
			TokenURL:      m.TokenEndpoint,
			DeviceAuthURL: m.DeviceAuthorizationEndpoint,
			AuthStyle:     style,
		},
	}
}

func (d *driver) clientContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, d.cfg.HTTPClient)
}

func (d *driver) scopes(s []string) []string {
	if len(s) == 0 {
		return d.cfg.Scopes
	}
	return s
}

func (d *driver) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	if m.DeviceAuthorizationEndpoint == "" {
		return nil, fmt.Errorf("oidc: %s advertises no device_authorization_endpoint: %w", m.Issuer, provider.ErrGrantUnsupported)
	}
	scopes = d.scopes(scopes)
	r, err := d.oauth2Config(m, "", scopes).DeviceAuth(d.clientContext(ctx))
	if err != nil {
		return nil, tokenEndpointError("device_authorization", err)
	}
	if r.DeviceCode == "" || r.UserCode == "" || r.VerificationURI == "" {
		return nil, fmt.Errorf("oidc: device authorization response from %s lacks device_code, user_code or verification_uri", m.DeviceAuthorizationEndpoint)
	}
	if err := checkVerificationURI(m.Issuer, r.VerificationURI); err != nil {
		return nil, err
	}
	return &provider.DeviceAuthorization{
		DeviceCode:              r.DeviceCode,
		UserCode:                r.UserCode,
		VerificationURI:         r.VerificationURI,
		VerificationURIComplete: r.VerificationURIComplete,
		ExpiresAt:               r.Expiry,
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

func (d *driver) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (*provider.Token, error) {
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	return d.pollDevice(ctx, m, da)
}

func (d *driver) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	m, err := d.Metadata(ctx)
	if err != nil {
		return "", err
	}
	if m.AuthorizationEndpoint == "" {
		return "", fmt.Errorf("oidc: %s advertises no authorization_endpoint: %w", m.Issuer, provider.ErrGrantUnsupported)
	}
	return d.oauth2Config(m, req.RedirectURI, d.scopes(req.Scopes)).AuthCodeURL(req.State,
		oauth2.SetAuthURLParam("code_challenge", req.CodeChallenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
	), nil
}

func (d *driver) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	t, err := d.oauth2Config(m, redirect, nil).Exchange(d.clientContext(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, tokenEndpointError("token", err)
	}
	return fromOAuth2(t), nil
}

func (d *driver) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	if t.RefreshToken == "" {
		return nil, fmt.Errorf("oidc: token has no refresh token: %w", provider.ErrInvalidGrant)
	}
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	// An expired token with only the refresh token makes x/oauth2 refresh now.
	src := d.oauth2Config(m, "", nil).TokenSource(d.clientContext(ctx), &oauth2.Token{
		RefreshToken: t.RefreshToken,
		Expiry:       time.Unix(1, 0),
	})
	nt, err := src.Token()
	if err != nil {
		return nil, tokenEndpointError("token", err)
	}
	return fromOAuth2(nt), nil
}

// fromOAuth2 converts an x/oauth2 token. Scopes come from the "scope"
// field, space-separated (RFC 6749 §3.3); commas are accepted too.
func fromOAuth2(t *oauth2.Token) *provider.Token {
	out := &provider.Token{
		AccessToken:  t.AccessToken,
		TokenType:    t.Type(),
		RefreshToken: t.RefreshToken,
		Expiry:       t.Expiry,
	}
	if s, ok := t.Extra("scope").(string); ok {
		out.Scopes = ParseScopes(s)
	}
	if id, ok := t.Extra("id_token").(string); ok {
		out.IDToken = id
	}
	return out
}

// ParseScopes splits a scope string on spaces and commas, dropping empties.
func ParseScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

// tokenEndpointError turns an x/oauth2 error into a *provider.OAuthError
// carrying the RFC 6749 §5.2 fields.
func tokenEndpointError(endpoint string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("oidc: %s request: %w", endpoint, err)
	}
	oe := &provider.OAuthError{Endpoint: endpoint, Code: re.ErrorCode, Description: re.ErrorDescription, URI: re.ErrorURI}
	if re.Response != nil {
		oe.StatusCode = re.Response.StatusCode
	}
	if oe.Code == "" {
		oe.Code = "invalid_response"
		oe.Description = "no OAuth error in the response: " + excerpt(re.Body)
	}
	return oe
}

func excerpt(b []byte) string {
	const max = 200
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
