package oidc

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
	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/discovery"
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
	// Empty means openid.
	Scopes []string

	// Metadata is the authorization server's metadata, if known up front
	// (static for issuers that publish none, or already discovered).
	Metadata *provider.AuthServerMetadata
	// Discover finds the metadata on first use when Metadata is nil, so no
	// request is made before the first login. Nil means
	// discovery.AuthServer (RFC 8414, then OpenID Connect discovery, cached
	// for the process).
	Discover provider.DiscoverFunc
	// Endpoints override endpoints of the discovered or static metadata.
	Endpoints provider.Endpoints
	// ExtraParams are sent with the authorization request, the device
	// authorization request and every token request (an audience, say).
	ExtraParams map[string]string

	// HTTPClient is used for token, device and userinfo requests; nil means
	// a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock for expiries; nil means time.Now.
	Now func() time.Time
}

// New returns the generic driver. It makes no request: given only an
// issuer it discovers the metadata at the first login.
func New(cfg Config) (*Driver, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("oidc: Config.ClientID is required")
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
		m, err := cfg.Endpoints.Apply(cfg.Metadata)
		if err != nil {
			return nil, fmt.Errorf("oidc: %w", err)
		}
		cfg.Metadata, cfg.Endpoints = m, provider.Endpoints{} // applied
	} else if err := provider.CheckEndpointURL("issuer", cfg.Issuer); err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	if cfg.Discover == nil {
		cfg.Discover = discovery.AuthServer
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
	cfg.ExtraParams = maps.Clone(cfg.ExtraParams)
	return &Driver{cfg: cfg}, nil
}

// Registration is the generic driver's catalogue entry. It claims no
// issuer by its URL: it is the driver used when no other claims one.
var Registration = provider.Registration{
	Name: Name,
	New: func(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
		var none struct{}
		if err := cfg.DecodeOptions(Name, &none); err != nil {
			return nil, err
		}
		return New(Config{
			Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
			Metadata: cfg.Metadata, Discover: cfg.Discover, Endpoints: cfg.Endpoints, ExtraParams: cfg.ExtraParams,
		})
	},
}

// Driver is the generic RFC 8414 / OpenID Connect driver. Issuer drivers
// embed it and override what differs. Go embedding is not virtual: its
// methods call its own Metadata, not an embedding type's, so an issuer
// without discovery passes its metadata in Config.Metadata.
//
// A Driver is safe for concurrent use.
type Driver struct {
	cfg Config

	mu   sync.Mutex
	meta *provider.AuthServerMetadata
	oidc *gooidc.Provider
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

// Issuer is the issuer the driver works against, as configured (an issuer
// driver may derive it from its options); its metadata always names it.
func (d *Driver) Issuer() string { return d.cfg.Issuer }

// Config returns the driver's configuration with its defaults filled in
// and, once discovered, the metadata: what an embedding driver copies to
// build another instance (WithClientID).
func (d *Driver) Config() Config {
	cfg := d.cfg
	d.mu.Lock()
	if d.meta != nil {
		cfg.Metadata = d.meta
		cfg.Endpoints = provider.Endpoints{} // already applied
	}
	d.mu.Unlock()
	cfg.Scopes = slices.Clone(cfg.Scopes)
	cfg.ExtraParams = maps.Clone(cfg.ExtraParams)
	return cfg
}

// WithClientID returns a driver for the same issuer acting for another
// client (a CIMD URL). It shares the metadata already discovered.
func (d *Driver) WithClientID(clientID string) (provider.Driver, error) {
	cfg := d.Config()
	cfg.ClientID = clientID
	cfg.ClientSecret = ""
	return New(cfg)
}

func (d *Driver) Describe() provider.Description {
	return provider.Description{
		Name:          Name,
		Version:       Version,
		ClientID:      d.cfg.ClientID,
		Grants:        []provider.Grant{provider.GrantPKCE, provider.GrantDevice},
		DefaultScopes: slices.Clone(d.cfg.Scopes),
	}
}

func (d *Driver) Metadata(ctx context.Context) (*provider.AuthServerMetadata, error) {
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
		if m, err = d.cfg.Endpoints.Apply(m); err != nil {
			return nil, fmt.Errorf("oidc: %w", err)
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

// oauth2Config builds the x/oauth2 configuration for an authorization or
// device authorization request.
func (d *Driver) oauth2Config(m *provider.AuthServerMetadata, redirect string, scopes []string) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if d.clientSecretBasic(m) {
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

func (d *Driver) clientContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, d.cfg.HTTPClient)
}

func (d *Driver) scopes(s []string) []string {
	if len(s) == 0 {
		return d.cfg.Scopes
	}
	return s
}

func (d *Driver) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	m, err := d.Metadata(ctx)
	if err != nil {
		return "", err
	}
	if m.AuthorizationEndpoint == "" {
		return "", fmt.Errorf("oidc: %s advertises no authorization_endpoint: %w", m.Issuer, provider.ErrGrantUnsupported)
	}
	opts := append(d.extraParams(),
		oauth2.SetAuthURLParam("code_challenge", req.CodeChallenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
	)
	return d.oauth2Config(m, req.RedirectURI, d.scopes(req.Scopes)).AuthCodeURL(req.State, opts...), nil
}

func (d *Driver) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	return d.tokenRequest(ctx, m, url.Values{
		"grant_type":    {provider.GrantTypeAuthorizationCode},
		"code":          {code},
		"code_verifier": {verifier},
		"redirect_uri":  {redirect},
	})
}

func (d *Driver) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	if t.RefreshToken == "" {
		return nil, fmt.Errorf("oidc: token has no refresh token: %w", provider.ErrInvalidGrant)
	}
	m, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	return d.tokenRequest(ctx, m, url.Values{
		"grant_type":    {provider.GrantTypeRefreshToken},
		"refresh_token": {t.RefreshToken},
	})
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
		oe.Description = "no OAuth error in the response"
	}
	return oe
}
