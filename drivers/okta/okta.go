package okta

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Name is the driver's name in configuration.
const Name = "okta"

// Version is the driver's version, reported by Describe.
const Version = "0.1.0"

// offlineAccess is the scope Okta requires before it issues a refresh token.
const offlineAccess = "offline_access"

// oktaDomains are the host suffixes of Okta-hosted orgs.
var oktaDomains = []string{".okta.com", ".oktapreview.com", ".okta-emea.com"}

// Config configures the Okta driver.
type Config struct {
	// Issuer is the authorization server: the org server https://DOMAIN
	// (endpoints under /oauth2/v1) or a custom server
	// https://DOMAIN/oauth2/{id}, such as https://acme.okta.com/oauth2/default.
	Issuer string
	// ClientID is the Okta app's client ID. The app must be a Native app
	// (a public client: Client authentication "None", PKCE required).
	ClientID string
	// Scopes are the default scopes; nil means openid and profile.
	Scopes []string
	// DisableRefresh stops the driver from adding offline_access to every
	// login. Okta issues a refresh token only for offline_access, so with
	// it set a token that expires means a new login.
	DisableRefresh bool
	// RequireDPoP sends DPoP proofs (RFC 9449) from the first token
	// request, for apps with "Require Demonstrating Proof of Possession
	// (DPoP) header in token requests" on. Without it the driver starts
	// sending them the first time Okta answers invalid_dpop_proof; setting
	// it saves that round trip.
	RequireDPoP bool

	// Metadata is the authorization server's metadata, if known up front.
	Metadata *provider.AuthServerMetadata
	// Discover finds the metadata on first use when Metadata is nil. Nil
	// means the process-wide discovery.Default: RFC 8414 path insertion
	// first (the form Okta calls the standard), then DiscoveryFallbacks,
	// the appended form Okta calls legacy.
	Discover provider.DiscoverFunc
	// MetadataClientID adds ?client_id=ClientID to every metadata request,
	// for apps whose issuer Okta formats per client (a custom domain, or
	// the dynamic issuer mode): Okta then returns the issuer in the app's
	// format, which discovery requires to match exactly. The driver then
	// discovers with a discoverer of its own, ignoring Discover.
	MetadataClientID bool
	// Endpoints override endpoints of the discovered metadata.
	Endpoints provider.Endpoints
	// ExtraParams are sent with the authorization, device authorization
	// and token requests.
	ExtraParams map[string]string

	// HTTPClient is used for every request; nil means a client with a 30 s
	// timeout. Its transport is wrapped to add DPoP proofs to token requests.
	HTTPClient *http.Client
	// Now is the clock for expiries and DPoP proofs; nil means time.Now.
	Now func() time.Time
	// Logger receives what the driver decides on its own (adding
	// offline_access, turning DPoP on); nil means slog.Default().
	Logger *slog.Logger
}

// New returns the Okta driver. It makes no request. Each driver holds its
// own DPoP key, in memory only.
func New(cfg Config) (*Driver, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("okta: Config.ClientID is required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"openid", "profile"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("okta: DPoP key: %w", err)
	}
	proofs, err := newDPoP(key, cfg.Now)
	if err != nil {
		return nil, err
	}
	proofs.on = cfg.RequireDPoP
	proofs.logger = cfg.Logger
	client := *cfg.HTTPClient
	proofs.base = client.Transport
	if proofs.base == nil {
		proofs.base = http.DefaultTransport
	}
	client.Transport = proofs
	switch {
	case cfg.MetadataClientID:
		cfg.Discover = discoverWithClientID(cfg.HTTPClient, cfg.ClientID)
	case cfg.Discover == nil:
		cfg.Discover = discover
	}
	inner, err := oidc.New(oidc.Config{
		Issuer:      cfg.Issuer,
		ClientID:    cfg.ClientID,
		Scopes:      cfg.Scopes,
		Metadata:    cfg.Metadata,
		Discover:    cfg.Discover,
		Endpoints:   cfg.Endpoints,
		ExtraParams: cfg.ExtraParams,
		HTTPClient:  &client,
		Now:         cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("okta: %w", err)
	}
	if cfg.Issuer == "" {
		cfg.Issuer = cfg.Metadata.Issuer
	}
	return &Driver{Driver: inner, cfg: cfg, dpop: proofs}, nil
}

// Claims reports whether the issuer is on an Okta-hosted domain:
// *.okta.com, *.oktapreview.com or *.okta-emea.com, over https. An org on a
// custom domain is named in configuration (driver: okta).
func Claims(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" || u.RawQuery != "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, d := range oktaDomains {
		if strings.HasSuffix(host, d) && len(host) > len(d) {
			return true
		}
	}
	return false
}

// discover is the default discovery: the standard candidates, then Okta's
// appended forms.
func discover(ctx context.Context, issuer string) (*provider.AuthServerMetadata, error) {
	return discovery.Default.AuthServer(ctx, issuer, DiscoveryFallbacks(issuer)...)
}

// discoverWithClientID discovers through its own discoverer (its cache is
// per client) whose requests carry ?client_id=clientID.
func discoverWithClientID(c *http.Client, clientID string) provider.DiscoverFunc {
	hc := *c
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = clientIDTransport{base: base, clientID: clientID}
	disc := &discovery.Discoverer{HTTPClient: &hc}
	return func(ctx context.Context, issuer string) (*provider.AuthServerMetadata, error) {
		return disc.AuthServer(ctx, issuer, DiscoveryFallbacks(issuer)...)
	}
}

// clientIDTransport adds client_id to the query of every request: Okta's
// metadata endpoints take it to format the issuer for that client.
type clientIDTransport struct {
	base     http.RoundTripper
	clientID string
}

func (t clientIDTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	q := r.URL.Query()
	q.Set("client_id", t.clientID)
	r.URL.RawQuery = q.Encode()
	return t.base.RoundTrip(r)
}

// DiscoveryFallbacks lists the metadata URLs Okta serves for issuer, for a
// discoverer to try after its standard candidates. Okta calls RFC 8414 path
// insertion (https://DOMAIN/.well-known/oauth-authorization-server/oauth2/default)
// the standard and still serves the legacy form, the well-known path
// APPENDED to the issuer
// (https://DOMAIN/oauth2/default/.well-known/oauth-authorization-server);
// these are the legacy URLs. For the org server (no path) both forms are
// the same URL, already among the standard ones.
func DiscoveryFallbacks(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return nil
	}
	base := strings.TrimSuffix(issuer, "/")
	return []string{
		base + "/.well-known/oauth-authorization-server",
		base + "/.well-known/openid-configuration",
	}
}

// Driver is Okta's quirks on top of the generic driver it embeds:
// offline_access, errors that say which app setting to change, and DPoP on
// token requests (through the HTTP client's transport, so every grant gets
// it). Identity is the generic driver's.
type Driver struct {
	*oidc.Driver
	cfg  Config
	dpop *dpopTransport

	offlineOnce, boundOnce sync.Once
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

func (d *Driver) Describe() provider.Description {
	refresh := "refresh: offline_access is added to every login so Okta issues a refresh token (the app needs the Refresh Token grant type)"
	if d.cfg.DisableRefresh {
		refresh = "refresh disabled (DisableRefresh): offline_access is not requested, so Okta issues no refresh token"
	}
	return provider.Description{
		Name:          Name,
		Version:       Version,
		ClientID:      d.cfg.ClientID,
		Grants:        []provider.Grant{provider.GrantPKCE, provider.GrantDevice},
		DefaultScopes: d.scopes(nil),
		// Okta matches sign-in redirect URIs exactly, port included.
		LoopbackPortFixed: true,
		Quirks: []string{
			"org authorization server (https://DOMAIN, endpoints under /oauth2/v1) or custom ones (https://DOMAIN/oauth2/{id}), whose metadata is at the RFC 8414 path-insertion URL (Okta's standard) or appended to the issuer (Okta's legacy form, DiscoveryFallbacks); metadata_client_id adds ?client_id= for per-client issuer formats",
			"sign-in redirect URIs match exactly, port included: register http://127.0.0.1:PORT/callback and set loopback_port",
			"refresh-token rotation is the server's choice: a refresh without a new refresh token keeps the one used",
			"a custom server whose access policies have no rule for the grant answers access_denied \"Policy evaluation failed\": reported as a configuration error (ErrPolicyEvaluationFailed), not as the user declining",
			"device grant: the app must be a Native app (public client) with Grant type → Device Authorization checked (else unauthorized_client or invalid_client)",
			refresh,
			"DPoP (RFC 9449): token requests carry proofs from an in-memory ES256 key when the app requires them, with the use_dpop_nonce retry; DPoP-bound tokens (token type DPoP) and their refresh tokens work only in this process",
			"step-up: RFC 6750 insufficient_scope challenges, in the Bearer or DPoP scheme",
			"identity: the verified ID token, else userinfo",
		},
	}
}

// Metadata returns the discovered (or given) metadata and tells the DPoP
// transport where the token endpoint is.
func (d *Driver) Metadata(ctx context.Context) (*provider.AuthServerMetadata, error) {
	m, err := d.Driver.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	d.dpop.setTokenEndpoint(m.TokenEndpoint)
	return m, nil
}

// WithClientID returns a driver for the same issuer acting for another
// client (a CIMD URL), with its own DPoP key. It reuses the metadata
// already discovered.
func (d *Driver) WithClientID(clientID string) (provider.Driver, error) {
	cfg := d.cfg
	cfg.ClientID = clientID
	cfg.RequireDPoP = cfg.RequireDPoP || d.dpop.enabled()
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
