package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Name is the driver's name in configuration.
const Name = "slack"

// Version is the driver's version, reported by Describe.
const Version = "0.1.0"

// DefaultBaseURL is Slack's host; it is the provider's issuer.
const DefaultBaseURL = "https://slack.com"

// Endpoint paths (Slack OAuth v2). Slack publishes no RFC 8414 document;
// its OpenID configuration (/.well-known/openid-configuration) describes
// Sign in with Slack only, an identity flow.
const (
	authorizePath = "/oauth/v2/authorize"
	accessPath    = "/api/oauth.v2.access"
	authTestPath  = "/api/auth.test"
	// apiPath is the Web API's root, where tokens are sent.
	apiPath = "/api"
)

// Errors.
var (
	// ErrBotScope: a login asked for a scope Slack grants to bot tokens
	// only. Apps that use PKCE are public clients and cannot request bot
	// scopes; this driver asks for user scopes only.
	ErrBotScope = errors.New("slack: desktop redirects cannot request bot scopes")
	// ErrNoUserToken: oauth.v2.access answered without a user token.
	ErrNoUserToken = errors.New("slack: no user token in the oauth.v2.access response")
)

// Config configures the Slack driver.
type Config struct {
	// BaseURL is Slack's host: https://slack.com (the default). It must be
	// https; http is accepted only on loopback (test servers).
	BaseURL string
	// ClientID is the Slack app's client ID. The app must have PKCE
	// enabled and list the loopback redirect URL (OAuth & Permissions).
	ClientID string
	// ClientSecret, if set, is sent with refreshes only. Enabling PKCE makes
	// a Slack app a public client: its code exchange takes no secret (Slack
	// refuses one), and its refreshes need none (RFC 8252 §8.5).
	ClientSecret string
	// Scopes are the default user scopes, sent as user_scope. Slack scope
	// names are shared between user and bot tokens (chat:write exists for
	// both); a scope is a user scope because it is requested in
	// user_scope. Scopes that exist for bot tokens only are refused with
	// ErrBotScope.
	Scopes []string

	// HTTPClient is used for every request; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock for expiries; nil means time.Now.
	Now func() time.Time
}

// New returns the Slack driver. It makes no request.
func New(cfg Config) (*Driver, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("slack: Config.ClientID is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	meta, err := StaticMetadata(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = meta.Issuer
	if err := CheckUserScopes(cfg.Scopes); err != nil {
		return nil, err
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// The generic driver serves the static metadata; Slack's own wire
	// format needs every grant method overridden.
	base, err := oidc.New(oidc.Config{Issuer: meta.Issuer, ClientID: cfg.ClientID, Scopes: cfg.Scopes, Metadata: meta,
		HTTPClient: cfg.HTTPClient, Now: cfg.Now})
	if err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	return &Driver{Driver: base, cfg: cfg, meta: meta}, nil
}

// StaticMetadata returns the authorization-server metadata of Slack's OAuth
// v2 user flow, which Slack does not publish: authorization code with PKCE
// S256 and refresh; no device grant.
func StaticMetadata(baseURL string) (*provider.AuthServerMetadata, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("slack: base URL %q: %w", baseURL, err)
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("slack: base URL %q must be a bare host URL", baseURL)
	}
	base := u.Scheme + "://" + u.Host
	m := &provider.AuthServerMetadata{
		Issuer:                            base,
		AuthorizationEndpoint:             base + authorizePath,
		TokenEndpoint:                     base + accessPath,
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               []string{provider.GrantTypeAuthorizationCode, provider.GrantTypeRefreshToken},
		TokenEndpointAuthMethodsSupported: []string{"none", "client_secret_post"},
		CodeChallengeMethodsSupported:     []string{"S256"},
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	return m, nil
}

// Claims reports whether the driver claims the issuer: https://slack.com.
func Claims(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil {
		return false
	}
	return u.Scheme == "https" && strings.EqualFold(u.Host, "slack.com") &&
		(u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.User == nil
}

// Driver is the Slack OAuth v2 user-token flow. Slack's wire format is not
// RFC 6749 (user_scope, authed_user nesting, ok:false errors with HTTP 200),
// so it overrides every grant method of the generic driver it embeds, which
// still serves the static metadata.
type Driver struct {
	*oidc.Driver
	cfg  Config
	meta *provider.AuthServerMetadata
}

var (
	_ provider.Driver         = (*Driver)(nil)
	_ provider.CodeExchanger  = (*Driver)(nil)
	_ provider.Refresher      = (*Driver)(nil)
	_ provider.Challenger     = (*Driver)(nil)
	_ provider.Identifier     = (*Driver)(nil)
	_ provider.ClientRebinder = (*Driver)(nil)
)

// WithClientID returns a Slack driver acting for another client, without
// the secret (it belongs to the configured client).
func (d *Driver) WithClientID(clientID string) (provider.Driver, error) {
	cfg := d.cfg
	cfg.ClientID, cfg.ClientSecret = clientID, ""
	return New(cfg)
}

// StartDevice refuses: Slack has no device grant. (The embedded generic
// driver would find no device endpoint either; this says why.)
func (d *Driver) StartDevice(context.Context, []string) (*provider.DeviceAuthorization, error) {
	return nil, errNoDeviceGrant
}

// PollDevice refuses: Slack has no device grant.
func (d *Driver) PollDevice(context.Context, *provider.DeviceAuthorization) (*provider.Token, error) {
	return nil, errNoDeviceGrant
}

var errNoDeviceGrant = fmt.Errorf("slack: Slack has no device grant; log in with grant: pkce: %w", provider.ErrGrantUnsupported)

func (d *Driver) Describe() provider.Description {
	return provider.Description{
		Name:          Name,
		Version:       Version,
		ClientID:      d.cfg.ClientID,
		Grants:        []provider.Grant{provider.GrantPKCE},
		DefaultScopes: slices.Clone(d.cfg.Scopes),
		APIs:          []string{d.cfg.BaseURL + apiPath},
		// Slack accepts localhost redirects for PKCE (desktop) apps and
		// matches the registered URL, port included; 127.0.0.1 is reported
		// to count as another host.
		LoopbackHost:      "localhost",
		LoopbackPortFixed: true,
		// Web API refusals are 200 {"ok":false,"error":"missing_scope"}.
		ChallengeStatuses: []int{200, 401, 403},
		Quirks: []string{
			"no device grant: authorization code with PKCE and a loopback redirect only (the app must enable PKCE)",
			"redirect http://localhost:PORT/callback, matched exactly: register it with the app and set loopback_port",
			"user scopes only: requested as user_scope, never scope; desktop redirects cannot request bot scopes, and bot-only scopes are refused",
			"the user token is nested under authed_user in the oauth.v2.access reply, and at the top level (token_type user) in a refresh reply; scopes are comma-separated",
			"no client_secret on the PKCE exchange: a PKCE app is a public client",
			"with token rotation on, tokens expire after 12 h and each refresh revokes the refresh token used; a PKCE app's refresh tokens expire after 30 days",
			"step-up: Web API refusals are HTTP 200 {\"ok\":false,\"error\":\"missing_scope\",\"needed\":…}; other ok:false errors are not scope challenges",
			"identity: auth.test (team and user); Sign in with Slack (OpenID Connect) is a separate, identity-only flow",
		},
	}
}
