package google

import (
	"errors"
	"fmt"
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
const Name = "google"

// Version is the driver's version, reported by Describe.
const Version = "0.1.0"

// Issuer is Google's issuer.
const Issuer = "https://accounts.google.com"

// DefaultLoopbackHost is the loopback redirect host Google's desktop apps
// use: http://127.0.0.1:PORT (http://[::1]:PORT works too); Google matches
// any port for desktop clients.
const DefaultLoopbackHost = "127.0.0.1"

// VerificationHosts are the hosts Google's device authorization responses
// send the user to (https://www.google.com/device), which are not the
// issuer's.
var VerificationHosts = []string{"www.google.com", "google.com", "accounts.google.com"}

// DeviceScopes are the only scopes Google allows on the device grant.
var DeviceScopes = []string{
	"openid", "email", "profile",
	"https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/userinfo.profile",
	"https://www.googleapis.com/auth/drive.appdata", "https://www.googleapis.com/auth/drive.file",
	"https://www.googleapis.com/auth/youtube", "https://www.googleapis.com/auth/youtube.readonly",
}

// Config configures the Google driver.
type Config struct {
	// Issuer is https://accounts.google.com; empty means that.
	Issuer string
	// ClientID is the OAuth client ID (type "Desktop app" for PKCE, "TVs and
	// Limited Input devices" for the device grant).
	ClientID string
	// ClientSecret is the OAuth client's secret. Google's token endpoint
	// wants it even for desktop apps with PKCE; it is not truly secret in a
	// native app (RFC 8252 §8.5) but is never logged.
	ClientSecret string
	// Scopes are the default scopes, space-separated on the wire; nil means
	// openid, email and profile.
	Scopes []string

	// Discover finds the metadata on first use; nil means
	// discovery.AuthServer.
	Discover provider.DiscoverFunc
	// Endpoints override endpoints of the discovered metadata.
	Endpoints provider.Endpoints
	// ExtraParams are sent with every request (access_type, prompt, hd, …).
	ExtraParams map[string]string

	// HTTPClient is used for every request; nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// Now is the clock for expiries; nil means time.Now.
	Now func() time.Time
}

// New returns the Google driver. It makes no request.
func New(cfg Config) (*Driver, error) {
	if cfg.Issuer == "" {
		cfg.Issuer = Issuer
	}
	if cfg.ClientID == "" {
		return nil, errors.New("google: Config.ClientID is required")
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"openid", "email", "profile"}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	inner, err := oidc.New(oidc.Config{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
		Discover: cfg.Discover, Endpoints: cfg.Endpoints, ExtraParams: cfg.ExtraParams,
		HTTPClient: cfg.HTTPClient, Now: cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("google: %w", err)
	}
	return &Driver{Driver: inner, cfg: cfg}, nil
}

// Claims reports whether the issuer is https://accounts.google.com.
func Claims(issuer string) bool {
	return strings.TrimSuffix(issuer, "/") == Issuer
}

// Driver is Google's quirks on top of the generic driver it embeds.
type Driver struct {
	*oidc.Driver
	cfg Config

	mu       sync.Mutex
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

func (d *Driver) Describe() provider.Description {
	return provider.Description{
		Name:              Name,
		Version:           Version,
		ClientID:          d.cfg.ClientID,
		Grants:            []provider.Grant{provider.GrantPKCE, provider.GrantDevice},
		DefaultScopes:     slices.Clone(d.cfg.Scopes),
		VerificationHosts: slices.Clone(VerificationHosts),
		Quirks: []string{
			"the client secret is required at the token endpoint, even for desktop apps with PKCE",
			"PKCE loopback on http://127.0.0.1:PORT (or [::1]) with a Desktop app client",
			"device grant only with a \"TVs and Limited Input devices\" client and only for openid, email, profile, drive.appdata, drive.file, youtube and youtube.readonly (other scopes: the device grant is refused at StartDevice); the verification URL is on www.google.com",
			"polling errors come with non-standard statuses (428 authorization_pending, 403 slow_down/access_denied) and are read by their error field; the rate_limit_exceeded quota error means slow down",
			"refresh tokens do not rotate; those of apps in Testing status expire after 7 days",
			"step-up: RFC 6750 insufficient_scope (403 with WWW-Authenticate); ACCESS_TOKEN_SCOPE_INSUFFICIENT bodies are reported",
			"identity: the verified ID token (issuer with or without https://), else userinfo",
		},
	}
}

// WithClientID returns a driver for another client (a CIMD URL), without
// the secret, reusing the metadata already discovered.
func (d *Driver) WithClientID(clientID string) (provider.Driver, error) {
	cfg := d.cfg
	cfg.ClientID, cfg.ClientSecret = clientID, ""
	inner, err := d.Driver.WithClientID(clientID)
	if err != nil {
		return nil, fmt.Errorf("google: %w", err)
	}
	return &Driver{Driver: inner.(*oidc.Driver), cfg: cfg}, nil
}

// needSecret refuses a login that Google's token endpoint would refuse
// after the user consented.
func (d *Driver) needSecret() error {
	if d.cfg.ClientSecret == "" {
		return errors.New("google: client_secret is required: Google's token endpoint wants the OAuth client's secret even for desktop apps with PKCE and for TV and limited-input clients (Google Cloud console → APIs & Services → Credentials → the OAuth client)")
	}
	return nil
}

// checkVerificationURL refuses a verification URL on a host that is not
// Google's: it is where the user types the code.
func checkVerificationURL(uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return errors.New("google: verification_url is not a URL")
	}
	if !slices.Contains(VerificationHosts, strings.ToLower(u.Hostname())) {
		return fmt.Errorf("google: device authorization sends the user to %s, which is not a Google verification host (%s)", u.Hostname(), strings.Join(VerificationHosts, ", "))
	}
	return nil
}
