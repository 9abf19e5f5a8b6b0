package entra

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Name is the driver's name in configuration.
const Name = "entra"

// Version is the driver's version, reported by Describe.
const Version = "0.1.0"

// Host is the Microsoft identity platform's global-cloud host, the one
// Claims recognises. National clouds (login.microsoftonline.us,
// login.partner.microsoftonline.cn) work with driver: entra named in
// configuration.
const Host = "login.microsoftonline.com"

// DefaultLoopbackHost is the loopback redirect host to register: Entra
// matches http://localhost redirect URIs on any port; http://127.0.0.1 can
// only be added by editing the app manifest, and http://[::1] is not
// supported. (The login engine listens on 127.0.0.1 today; an app
// registration needs both until the loopback host is a per-provider
// setting.)
const DefaultLoopbackHost = "localhost"

// VerificationHosts are the hosts Entra's device authorization responses
// send the user to, which are not the issuer's: https://www.microsoft.com/link
// and the older https://microsoft.com/devicelogin. StartDevice refuses any
// other host than these and the issuer's.
var VerificationHosts = []string{"www.microsoft.com", "microsoft.com", Host}

// Config configures the Entra driver.
type Config struct {
	// Issuer is https://login.microsoftonline.com/{tenant}/v2.0 (see
	// ParseTenant for the tenants).
	Issuer string
	// ClientID is the app registration's Application (client) ID. The
	// registration needs the platform "Mobile and desktop applications"
	// with redirect URI http://localhost, and "Allow public client flows"
	// for the device grant. Public clients send no secret.
	ClientID string
	// ClientSecret, if set, authenticates a confidential (web) app
	// registration; native apps have none.
	ClientSecret string
	// Scopes are the default scopes; nil means openid, profile and
	// User.Read (Microsoft Graph). offline_access is added unless
	// DisableRefresh.
	Scopes []string
	// DisableRefresh stops the driver from adding offline_access, without
	// which Entra issues no refresh token.
	DisableRefresh bool
	// Claims, if set, is a claims request (JSON, as a claims challenge
	// decodes to) sent as the claims parameter of the authorization, device
	// authorization and token requests; see WithClaims.
	Claims string

	// Endpoints override endpoints of the discovered metadata.
	Endpoints provider.Endpoints
	// ExtraParams are sent with the authorization, device authorization and
	// token requests (login_hint, domain_hint, prompt, …). resource is
	// refused: the v2.0 endpoint names the resource in the scope.
	ExtraParams map[string]string

	// HTTPClient is used for every request, discovery included; nil means a
	// client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock for expiries and ID tokens; nil means time.Now.
	Now func() time.Time
}

// New returns the Entra driver. It makes no request: it discovers the
// tenant's metadata at the first login, with its own discovery (the
// registry's refuses the common and organizations documents, whose issuer
// is a template).
func New(cfg Config) (*Driver, error) {
	return newDriver(cfg, nil, "")
}

func newDriver(cfg Config, meta *provider.AuthServerMetadata, pinned string) (*Driver, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("entra: Config.ClientID is required")
	}
	t, err := ParseTenant(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	if err := provider.CheckEndpointURL("issuer", cfg.Issuer); err != nil {
		return nil, fmt.Errorf("entra: %w", err)
	}
	cfg.Issuer = t.Issuer()
	for k := range cfg.ExtraParams {
		if strings.EqualFold(k, "resource") {
			return nil, errors.New("entra: extra parameter resource (RFC 8707) is not supported by the v2.0 endpoint (AADSTS901002): name the resource in the scopes instead, e.g. https://management.azure.com/user_impersonation")
		}
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"openid", "profile", "User.Read"}
	}
	if err := CheckScopes(cfg.Scopes); err != nil {
		return nil, err
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.ExtraParams = maps.Clone(cfg.ExtraParams)
	params := maps.Clone(cfg.ExtraParams)
	if cfg.Claims != "" {
		if params == nil {
			params = map[string]string{}
		}
		params["claims"] = cfg.Claims
	}
	d := &Driver{cfg: cfg, tenant: t, pinned: pinned}
	inner, err := oidc.New(oidc.Config{
		Issuer:       cfg.Issuer,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Scopes:       cfg.Scopes,
		Metadata:     meta,
		Discover:     d.discover,
		Endpoints:    cfg.Endpoints,
		ExtraParams:  params,
		HTTPClient:   cfg.HTTPClient,
		Now:          cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("entra: %w", err)
	}
	d.Driver = inner
	return d, nil
}

// Claims reports whether the issuer is on the global Microsoft identity
// platform host, https://login.microsoftonline.com (any path: New says what
// is wrong with a path that is not /{tenant}/v2.0).
func Claims(issuer string) bool {
	u, err := url.Parse(issuer)
	return err == nil && u.Scheme == "https" && u.User == nil && u.Port() == "" && u.RawQuery == "" &&
		strings.EqualFold(u.Hostname(), Host)
}

// Driver is Entra's quirks on top of the generic driver it embeds.
type Driver struct {
	*oidc.Driver
	cfg    Config
	tenant Tenant

	mu       sync.Mutex
	pinned   string // the issuer tokens carry, for a single-tenant issuer
	verifier *gooidc.IDTokenVerifier
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

// discover is the embedded driver's DiscoverFunc.
func (d *Driver) discover(ctx context.Context, _ string) (*provider.AuthServerMetadata, error) {
	m, pinned, err := discover(ctx, d.cfg.HTTPClient, d.tenant)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.pinned = pinned
	d.mu.Unlock()
	return m, nil
}

// Tenant is the driver's tenant.
func (d *Driver) Tenant() Tenant { return d.tenant }

func (d *Driver) Describe() provider.Description {
	refresh := "refresh: offline_access is added to every login; Entra issues a new refresh token on every use without revoking the old one (the newest is kept); refresh tokens last 24 h for single-page-app redirect URIs, 90 days otherwise"
	if d.cfg.DisableRefresh {
		refresh = "refresh disabled: offline_access is not requested, so Entra issues no refresh token"
	}
	return provider.Description{
		Name:              Name,
		Version:           Version,
		ClientID:          d.cfg.ClientID,
		Grants:            []provider.Grant{provider.GrantPKCE, provider.GrantDevice},
		DefaultScopes:     d.scopes(nil),
		VerificationHosts: slices.Clone(VerificationHosts),
		LoopbackHost:      DefaultLoopbackHost,
		Quirks: []string{
			"issuer https://login.microsoftonline.com/{tenant}/v2.0; common and organizations publish the issuer template .../{tenantid}/v2.0, matched with each ID token's tid",
			"PKCE S256 assumed (Entra's metadata does not list it); loopback redirect http://localhost (port ignored) — http://127.0.0.1 only through the app manifest, [::1] unsupported",
			"device grant: authorization_declined means access denied; the verification URI is on www.microsoft.com (VerificationHosts); no verification_uri_complete",
			"scopes: one resource per request (AADSTS28000); {resource}/.default stands alone; no RFC 8707 resource parameter",
			refresh,
			"step-up: RFC 6750 insufficient_scope; claims challenges (insufficient_claims) are reported, not satisfied automatically (ParseClaimsChallenge, WithClaims); Microsoft Graph 403s name no scope",
			"identity: the verified ID token (subject tid/oid), else userinfo",
		},
	}
}

// WithClientID returns a driver for the same tenant acting for another
// client (a CIMD URL). It reuses the metadata already discovered.
func (d *Driver) WithClientID(clientID string) (provider.Driver, error) {
	cfg := d.cfg
	cfg.ClientID, cfg.ClientSecret = clientID, ""
	return d.derive(cfg)
}

// WithClaims returns a driver that sends claims (the JSON a claims
// challenge decodes to; see ParseClaimsChallenge) as the claims parameter
// of its authorization, device authorization and token requests: log in
// with it to satisfy a Conditional Access or continuous access evaluation
// challenge. The claims parameter is not a scope, so a ScopeChallenge cannot
// carry it.
func (d *Driver) WithClaims(claims string) (*Driver, error) {
	cfg := d.cfg
	cfg.Claims = claims
	return d.derive(cfg)
}

func (d *Driver) derive(cfg Config) (*Driver, error) {
	inner := d.Driver.Config()
	d.mu.Lock()
	pinned := d.pinned
	d.mu.Unlock()
	if inner.Metadata != nil {
		cfg.Endpoints = provider.Endpoints{} // applied already
	}
	return newDriver(cfg, inner.Metadata, pinned)
}

// scopes returns the scopes of a login, with offline_access added unless
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
