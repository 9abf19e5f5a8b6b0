package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Name is the driver's name in configuration.
const Name = "gitlab"

// Version is the driver's version, reported by Describe.
const Version = "0.1.0"

// DotCom is gitlab.com's issuer.
const DotCom = "https://gitlab.com"

// Paths GitLab serves under the issuer.
const (
	// devicePath is the device authorization endpoint (GitLab 17.2+, behind
	// the oauth2_device_grant_flow flag until 17.9), missing from
	// gitlab.com's discovery document.
	devicePath = "/oauth/authorize_device"
	// apiPath is the REST API root.
	apiPath = "/api/v4"
)

// Config configures the GitLab driver.
type Config struct {
	// Issuer is the GitLab instance: "" or https://gitlab.com, or a
	// self-managed instance such as https://gitlab.corp.example (with its
	// relative URL root, if any). A trailing slash is dropped: GitLab's
	// issuer has none.
	Issuer string
	// ClientID is the application ID of the GitLab application. Clear
	// "Confidential" on the application: a public client uses PKCE and the
	// device grant without a secret.
	ClientID string
	// ClientSecret is for a confidential application; native clients
	// should not have one (RFC 8252 §8.5).
	ClientSecret string
	// Scopes are the default scopes; nil means read_api.
	Scopes []string
	// APIURL is the REST API root; "" means {Issuer}/api/v4.
	APIURL string

	// Metadata is the authorization server's metadata, if known up front.
	Metadata *provider.AuthServerMetadata
	// Discover finds the metadata on first use when Metadata is nil; nil
	// means discovery.AuthServer. The device endpoint is filled in after
	// either when the document lacks it.
	Discover provider.DiscoverFunc
	// Endpoints override endpoints of the discovered metadata.
	Endpoints provider.Endpoints
	// ExtraParams are sent with the authorization, device authorization
	// and token requests.
	ExtraParams map[string]string

	// HTTPClient is used for every request; nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// Now is the clock for expiries; nil means time.Now.
	Now func() time.Time
}

// New returns the GitLab driver. It makes no request.
func New(cfg Config) (*Driver, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("gitlab: Config.ClientID is required")
	}
	if cfg.Issuer == "" && cfg.Metadata != nil {
		cfg.Issuer = cfg.Metadata.Issuer
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DotCom
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	if err := provider.CheckEndpointURL("issuer", cfg.Issuer); err != nil {
		return nil, fmt.Errorf("gitlab: %w", err)
	}
	if cfg.APIURL == "" {
		cfg.APIURL = cfg.Issuer + apiPath
	}
	cfg.APIURL = strings.TrimSuffix(cfg.APIURL, "/")
	if err := provider.CheckEndpointURL("api_url", cfg.APIURL); err != nil {
		return nil, fmt.Errorf("gitlab: %w", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"read_api"}
	}
	base := cfg.Discover
	if base == nil {
		base = discovery.AuthServer
	}
	meta := cfg.Metadata
	if meta != nil {
		meta = WithDeviceEndpoint(meta)
	}
	inner, err := oidc.New(oidc.Config{
		Issuer:       cfg.Issuer,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Scopes:       cfg.Scopes,
		Metadata:     meta,
		Discover: func(ctx context.Context, issuer string) (*provider.AuthServerMetadata, error) {
			m, err := base(ctx, issuer)
			if err != nil {
				return nil, err
			}
			return WithDeviceEndpoint(m), nil
		},
		Endpoints:   cfg.Endpoints,
		ExtraParams: cfg.ExtraParams,
		HTTPClient:  cfg.HTTPClient,
		Now:         cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("gitlab: %w", err)
	}
	return &Driver{Driver: inner, cfg: cfg, noDevice: &atomic.Bool{}}, nil
}

// WithDeviceEndpoint returns m with GitLab's device authorization endpoint
// ({issuer}/oauth/authorize_device) filled in when m lacks one, as
// gitlab.com's discovery document does. m itself is not changed.
func WithDeviceEndpoint(m *provider.AuthServerMetadata) *provider.AuthServerMetadata {
	if m.DeviceAuthorizationEndpoint != "" {
		return m
	}
	out := *m
	out.DeviceAuthorizationEndpoint = strings.TrimSuffix(m.Issuer, "/") + devicePath
	return &out
}

// Claims reports whether the issuer is gitlab.com. Self-managed instances
// are named in configuration (driver: gitlab): any host may run GitLab.
func Claims(issuer string) bool {
	return issuer == DotCom || issuer == DotCom+"/"
}

// Driver is GitLab's quirks on top of the generic driver it embeds: the
// device endpoint GitLab does not advertise, JSON-body scope challenges
// and identity from the REST API.
type Driver struct {
	*oidc.Driver
	cfg Config
	// noDevice is set once the instance answered 404 at the device
	// endpoint; shared with the drivers WithClientID makes, since it is a
	// fact about the instance.
	noDevice *atomic.Bool
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

// APIURL is the REST API root the driver's tokens are for:
// https://gitlab.com/api/v4, or {issuer}/api/v4 for a self-managed
// instance. It is what GITLAB_API_URL holds for MCP servers that read it.
func (d *Driver) APIURL() string { return d.cfg.APIURL }

func (d *Driver) Describe() provider.Description {
	grants := []provider.Grant{provider.GrantPKCE, provider.GrantDevice}
	device := "device grant at POST " + d.cfg.Issuer + devicePath + " (GitLab 17.2+, feature flag oauth2_device_grant_flow on by default from 17.3, generally available in 17.9), filled in when the discovery document does not list it (gitlab.com's does not)"
	if d.noDevice.Load() {
		grants = grants[:1]
		device = "device grant ruled out: " + d.cfg.Issuer + " answered 404 at " + devicePath + " (needs GitLab 17.2 or later with oauth2_device_grant_flow enabled)"
	}
	return provider.Description{
		Name:          Name,
		Version:       Version,
		ClientID:      d.cfg.ClientID,
		Grants:        grants,
		DefaultScopes: slices.Clone(d.cfg.Scopes),
		APIs:          []string{d.cfg.APIURL},
		Quirks: []string{
			"API origin: " + d.cfg.APIURL + " (what GITLAB_API_URL holds)",
			device,
			"PKCE for applications with Confidential cleared; scopes such as api, read_api, read_user, openid, space-separated",
			"access tokens live 2 h; refresh rotates both tokens (the old refresh and access tokens stop working)",
			"step-up: insufficient_scope in a 403 JSON body (scope lists the scopes the endpoint accepts), not in WWW-Authenticate",
			"identity: GET " + d.cfg.APIURL + "/user (numeric user ID, as in the ID token's sub)",
		},
	}
}

// WithClientID returns a driver for the same instance acting for another
// client (a CIMD URL). It reuses the metadata already discovered.
func (d *Driver) WithClientID(clientID string) (provider.Driver, error) {
	cfg := d.cfg
	cfg.ClientID = clientID
	cfg.ClientSecret = ""
	if inner := d.Driver.Config(); inner.Metadata != nil {
		cfg.Metadata, cfg.Endpoints = inner.Metadata, inner.Endpoints
	}
	nd, err := New(cfg)
	if err != nil {
		return nil, err
	}
	nd.noDevice = d.noDevice
	return nd, nil
}
