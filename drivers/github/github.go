package github

import (
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
const Name = "github"

// Version is the driver's version, reported by Describe.
const Version = "0.1.0"

// github.com's hosts. GitHub Enterprise Server serves the same login paths
// on its own host and the REST API under /api/v3 there.
const (
	DefaultBaseURL    = "https://github.com"
	DefaultAPIURL     = "https://api.github.com"
	DefaultUploadsURL = "https://uploads.github.com"
)

// enterpriseUploadsPath is where GitHub Enterprise Server takes uploads
// (release assets), beside the REST API under /api/v3.
const enterpriseUploadsPath = "/api/uploads"

// Login endpoint paths, identical on github.com and GitHub Enterprise Server.
// GitHub publishes no discovery document for user login.
const (
	deviceCodePath  = "/login/device/code"
	authorizePath   = "/login/oauth/authorize"
	accessTokenPath = "/login/oauth/access_token"
)

// Config configures the GitHub driver.
type Config struct {
	// BaseURL is the GitHub host, which is the provider's issuer in
	// configuration: https://github.com (the default) or a GitHub Enterprise
	// Server host such as https://github.example.com. It must be https; http
	// is accepted only on loopback (test servers).
	BaseURL string
	// APIURL is the REST API root, used for Identity. Default:
	// https://api.github.com for github.com, BaseURL + "/api/v3" otherwise.
	APIURL string
	// ClientID is the OAuth App's or GitHub App's client ID (Iv1.… or Iv23… for GitHub Apps).
	ClientID string
	// ClientSecret is sent with the code exchange and refresh. GitHub does
	// not distinguish public and confidential clients: its code exchange
	// needs the secret even with PKCE (else incorrect_client_credentials),
	// so without one the driver offers the device grant only. A secret
	// shipped in a native app is not secret (RFC 8252 §8.5); it is never
	// logged. The device flow never sends it, and refreshing a device-flow
	// token needs none.
	ClientSecret string
	// Scopes are the default scopes (OAuth Apps). GitHub Apps ignore scopes:
	// their user tokens carry the app's permissions.
	Scopes []string
	// Endpoints override the fixed login endpoints (a proxy in front of
	// GitHub Enterprise Server, say).
	Endpoints provider.Endpoints
	// ExtraParams are sent with the authorization, device code and token
	// requests.
	ExtraParams map[string]string

	// HTTPClient is used for every request; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock for expiries; nil means time.Now.
	Now func() time.Time
}

// New returns the GitHub driver. It makes no request: the endpoints are
// derived from BaseURL.
func New(cfg Config) (*Driver, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("github: Config.ClientID is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	meta, err := StaticMetadata(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = meta.Issuer
	if meta, err = cfg.Endpoints.Apply(meta); err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	if cfg.APIURL == "" {
		cfg.APIURL = apiURL(cfg.BaseURL)
	}
	cfg.APIURL = strings.TrimSuffix(cfg.APIURL, "/")
	if err := provider.CheckEndpointURL("API URL", cfg.APIURL); err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// The generic driver gets the static metadata: its methods call its own
	// Metadata, not this driver's.
	base := oidc.Config{Issuer: meta.Issuer, ClientID: cfg.ClientID, Scopes: cfg.Scopes, Metadata: meta,
		ExtraParams: cfg.ExtraParams, HTTPClient: cfg.HTTPClient, Now: cfg.Now}
	// The device flow needs no secret; the driver for it gets none.
	device, err := oidc.New(base)
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	base.ClientSecret = cfg.ClientSecret
	web, err := oidc.New(base)
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	return &Driver{Driver: web, cfg: cfg, meta: meta, device: device}, nil
}

// StaticMetadata returns the authorization-server metadata of a GitHub host
// (github.com or GitHub Enterprise Server), which GitHub does not publish.
// Hosts use it instead of discovery.
func StaticMetadata(baseURL string) (*provider.AuthServerMetadata, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("github: base URL %q: %w", baseURL, err)
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("github: base URL %q must be a bare host URL such as https://github.example.com", baseURL)
	}
	base := u.Scheme + "://" + u.Host
	m := &provider.AuthServerMetadata{
		Issuer:                            base,
		AuthorizationEndpoint:             base + authorizePath,
		TokenEndpoint:                     base + accessTokenPath,
		DeviceAuthorizationEndpoint:       base + deviceCodePath,
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               []string{provider.GrantTypeAuthorizationCode, provider.GrantTypeRefreshToken, provider.GrantTypeDeviceCode},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "none"},
		CodeChallengeMethodsSupported:     []string{"S256"},
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	return m, nil
}

// apiURL is the REST API root for a host: api.github.com for github.com,
// /api/v3 on the host for GitHub Enterprise Server.
func apiURL(base string) string {
	if strings.EqualFold(base, DefaultBaseURL) {
		return DefaultAPIURL
	}
	return base + "/api/v3"
}

// Claims reports whether the driver claims the issuer by its URL alone:
// only https://github.com. A GitHub Enterprise Server host looks like any
// other host; configuration names the driver for it.
func Claims(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil {
		return false
	}
	return u.Scheme == "https" && strings.EqualFold(u.Host, "github.com") &&
		(u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.User == nil
}

// Driver is GitHub's quirks on top of the generic driver over static
// metadata. The embedded driver holds the client secret (if configured) for
// the code exchange and refresh; the device flow goes through a second one
// without it.
type Driver struct {
	*oidc.Driver
	cfg    Config
	meta   *provider.AuthServerMetadata
	device *oidc.Driver
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

// WithClientID returns a GitHub driver acting for another client, without
// the secret (it belongs to the configured client).
func (d *Driver) WithClientID(clientID string) (provider.Driver, error) {
	cfg := d.cfg
	cfg.ClientID, cfg.ClientSecret = clientID, ""
	return New(cfg)
}

func (d *Driver) Describe() provider.Description {
	grants := []provider.Grant{provider.GrantPKCE, provider.GrantDevice}
	web := "PKCE S256 with a loopback redirect and the client secret: GitHub has no public clients, so the code exchange needs client_secret even with PKCE"
	if d.cfg.ClientSecret == "" {
		grants = []provider.Grant{provider.GrantDevice}
		web = "no PKCE login: the code exchange needs client_secret, which is not configured (GitHub does not distinguish public and confidential clients); the device grant needs none"
	}
	quirks := []string{
		web,
		"no discovery: fixed endpoints " + deviceCodePath + ", " + authorizePath + " and " + accessTokenPath + " on " + d.cfg.BaseURL,
		"replies are form-encoded unless the request sends Accept: application/json; granted scopes are comma-separated",
		"token endpoint errors arrive with HTTP 200 and an error field; slow_down carries the new interval",
		"the device flow must be enabled in the app's settings (else device_flow_disabled) and needs no client secret, nor do refreshes of its tokens",
		"tokens expire after 8 h with a refresh token that rotates on use when the app has token expiration on (GitHub Apps by default; OAuth Apps by setting); otherwise they do not expire",
		"loopback callback: OAuth Apps accept any port on http://127.0.0.1/callback; a GitHub App's callback URL may need the exact port (set loopback_port)",
	}
	if !strings.EqualFold(d.cfg.BaseURL, DefaultBaseURL) {
		quirks = append(quirks, "GitHub Enterprise Server: its documentation does not describe PKCE; the challenge is sent but may be ignored, and the client secret is what protects the code exchange")
	}
	return provider.Description{
		Name:          Name,
		Version:       Version,
		ClientID:      d.cfg.ClientID,
		Grants:        grants,
		DefaultScopes: slices.Clone(d.cfg.Scopes),
		APIs:          d.apis(),
		// GitHub answers 404 for what a token may not see.
		ChallengeStatuses: []int{401, 403, 404},
		Quirks: append(quirks,
			"step-up: OAuth Apps read X-Accepted-OAuth-Scopes against X-OAuth-Scopes (any one accepted scope suffices; the least privileged is asked for); GitHub Apps report X-Accepted-GitHub-Permissions, which the app's owner must grant (they cannot be requested at login)",
			"identity: GET "+d.cfg.APIURL+"/user (id and login)",
		),
	}
}

// apis are where the driver's tokens go: the REST API root and the uploads
// host (github.com), or /api/v3 and /api/uploads on an Enterprise Server.
func (d *Driver) apis() []string {
	if strings.EqualFold(d.cfg.BaseURL, DefaultBaseURL) {
		return []string{d.cfg.APIURL, DefaultUploadsURL}
	}
	return []string{d.cfg.APIURL, d.cfg.BaseURL + enterpriseUploadsPath}
}

func (d *Driver) scopes(s []string) []string {
	if len(s) == 0 {
		return d.cfg.Scopes
	}
	return s
}
