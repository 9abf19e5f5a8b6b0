package auth0

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Name is the driver's name in configuration.
const Name = "auth0"

// Version is the driver's version, reported by Describe.
const Version = "0.1.0"

// offlineAccess is the scope Auth0 requires before it issues a refresh token.
const offlineAccess = "offline_access"

// audienceParam is the request parameter that names the API a token is for.
const audienceParam = "audience"

// tenantHost matches Auth0-hosted tenant domains: TENANT.auth0.com and
// TENANT.REGION.auth0.com, exactly one label for the tenant.
var tenantHost = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*(\.(us|eu|au|jp|ca|uk))?\.auth0\.com$`)

// Config configures the Auth0 driver.
type Config struct {
	// Issuer is the tenant, https://TENANT.auth0.com/ (or a regional or
	// custom domain), with its trailing slash; one is added when missing.
	Issuer string
	// ClientID is the Auth0 application's client ID. The application must
	// be Native (a public client, PKCE) with the grant types it uses.
	ClientID string
	// Audience is the API identifier tokens are for. Without it Auth0
	// issues an opaque access token that only /userinfo accepts.
	Audience string
	// Scopes are the default scopes; nil means openid and profile.
	Scopes []string
	// DisableRefresh stops the driver from adding offline_access to every
	// login; a token that expires then means a new login.
	DisableRefresh bool

	// Metadata is the authorization server's metadata, if known up front.
	Metadata *provider.AuthServerMetadata
	// Discover finds the metadata on first use when Metadata is nil; nil
	// means discovery.AuthServer.
	Discover provider.DiscoverFunc
	// Endpoints override endpoints of the discovered metadata.
	Endpoints provider.Endpoints
	// ExtraParams are sent with the authorization, device authorization
	// and token requests; the audience is added to them.
	ExtraParams map[string]string

	// HTTPClient is used for every request; nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// Now is the clock for expiries; nil means time.Now.
	Now func() time.Time
}

// New returns the Auth0 driver. It makes no request.
func New(cfg Config) (*Driver, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("auth0: Config.ClientID is required")
	}
	if cfg.Issuer == "" && cfg.Metadata != nil {
		cfg.Issuer = cfg.Metadata.Issuer
	}
	iss, err := NormalizeIssuer(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	cfg.Issuer = iss
	cfg.ExtraParams = maps.Clone(cfg.ExtraParams)
	if a, ok := cfg.ExtraParams[audienceParam]; ok && cfg.Audience != "" && a != cfg.Audience {
		return nil, fmt.Errorf("auth0: audience %q and extra_params.audience %q differ: set one", cfg.Audience, a)
	}
	if cfg.Audience == "" {
		cfg.Audience = cfg.ExtraParams[audienceParam]
	}
	if cfg.Audience != "" {
		if cfg.ExtraParams == nil {
			cfg.ExtraParams = map[string]string{}
		}
		cfg.ExtraParams[audienceParam] = cfg.Audience
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"openid", "profile"}
	}
	inner, err := oidc.New(oidc.Config{
		Issuer:      cfg.Issuer,
		ClientID:    cfg.ClientID,
		Scopes:      cfg.Scopes,
		Metadata:    cfg.Metadata,
		Discover:    cfg.Discover,
		Endpoints:   cfg.Endpoints,
		ExtraParams: cfg.ExtraParams,
		HTTPClient:  cfg.HTTPClient,
		Now:         cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("auth0: %w", err)
	}
	return &Driver{Driver: inner, cfg: cfg}, nil
}

// NormalizeIssuer returns an Auth0 issuer in the form Auth0's documents
// carry: https://DOMAIN/, with the trailing slash, which discovery compares
// exactly. https://DOMAIN (no path) gets the slash; an issuer with any
// other path, a query or a fragment is refused: Auth0 issuers have none.
func NormalizeIssuer(issuer string) (string, error) {
	if err := provider.CheckEndpointURL("issuer", issuer); err != nil {
		return "", fmt.Errorf("auth0: %w", err)
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return "", fmt.Errorf("auth0: issuer: %w", err)
	}
	switch {
	case u.RawQuery != "" || u.User != nil:
		return "", fmt.Errorf("auth0: issuer %q: an Auth0 issuer is https://DOMAIN/ (no query, no user info)", issuer)
	case u.Path == "":
		return issuer + "/", nil
	case u.Path != "/":
		return "", fmt.Errorf("auth0: issuer %q has a path: an Auth0 issuer is https://DOMAIN/ (the tenant domain, such as https://acme.auth0.com/, or a custom domain)", issuer)
	}
	return issuer, nil
}

// Claims reports whether the issuer is an Auth0-hosted tenant domain over
// https: TENANT.auth0.com or TENANT.REGION.auth0.com (us, eu, au, jp, ca,
// uk), with or without the trailing slash. A custom domain is named in
// configuration (driver: auth0).
func Claims(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" ||
		(u.Path != "" && u.Path != "/") {
		return false
	}
	return tenantHost.MatchString(strings.ToLower(u.Hostname()))
}

// Driver is Auth0's quirks on top of the generic driver it embeds: the
// audience, offline_access, and errors that name the setting to change.
// Identity and challenges are the generic driver's (ID token or
// /userinfo; RFC 6750 from your own APIs).
type Driver struct {
	*oidc.Driver
	cfg Config
}

var (
	_ provider.Driver           = (*Driver)(nil)
	_ provider.DeviceAuthorizer = (*Driver)(nil)
	_ provider.CodeExchanger    = (*Driver)(nil)
	_ provider.Refresher        = (*Driver)(nil)
	_ provider.Challenger       = (*Driver)(nil)
	_ provider.Identifier       = (*Driver)(nil)
	_ provider.ClientRebinder   = (*Driver)(nil)
)

// Audience is the API identifier the driver asks tokens for; "" means
// none (opaque tokens for /userinfo only).
func (d *Driver) Audience() string { return d.cfg.Audience }

func (d *Driver) Describe() provider.Description {
	audience := "audience " + d.cfg.Audience + " sent on the authorization, device and token requests: access tokens are JWTs for that API"
	if d.cfg.Audience == "" {
		audience = "no audience configured: Auth0 issues an opaque access token that only /userinfo accepts (set options.audience to your API identifier)"
	}
	refresh := "refresh: offline_access is added to every login (the API needs Allow Offline Access, the application the Refresh Token grant); rotation with a reuse interval is honoured"
	if d.cfg.DisableRefresh {
		refresh = "refresh disabled: offline_access is not requested, so Auth0 issues no refresh token"
	}
	return provider.Description{
		Name:          Name,
		Version:       Version,
		ClientID:      d.cfg.ClientID,
		Grants:        []provider.Grant{provider.GrantPKCE, provider.GrantDevice},
		DefaultScopes: d.scopes(nil),
		Quirks: []string{
			"issuer https://DOMAIN/ with the trailing slash (added when missing)",
			audience,
			refresh,
			"device grant at /oauth/device/code: authorization_pending is HTTP 403, slow_down 429; expired_token once, then invalid_grant",
			"identity: the verified ID token, else /userinfo",
		},
	}
}

// WithClientID returns a driver for the same tenant acting for another
// client (a CIMD URL). It reuses the metadata already discovered.
func (d *Driver) WithClientID(clientID string) (provider.Driver, error) {
	cfg := d.cfg
	cfg.ClientID = clientID
	if inner := d.Driver.Config(); inner.Metadata != nil {
		cfg.Metadata, cfg.Endpoints = inner.Metadata, inner.Endpoints
	}
	return New(cfg)
}

// scopes returns the scopes for a login, with offline_access added unless
// refresh is disabled.
func (d *Driver) scopes(requested []string) []string {
	s := slices.Clone(requested)
	if len(s) == 0 {
		s = slices.Clone(d.cfg.Scopes)
	}
	if !d.cfg.DisableRefresh && !slices.Contains(s, offlineAccess) {
		s = append(s, offlineAccess)
	}
	return s
}
