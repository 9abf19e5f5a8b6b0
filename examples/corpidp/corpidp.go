// Package corpidp is an example external driver: the driver an enterprise
// team would write for its internal identity provider ("Corp IdP"), shipped
// as its own plugin binary (cmd/corpidp-driver) and listed in a user's
// config file with its sha256:
//
//	plugin_dir: ~/.config/mcpauth/plugins
//	providers:
//	  - name: corp
//	    driver: external
//	    issuer: https://idp.corp.example
//	    client_id: mcp-tools
//	    options: {tenant: engineering}
//	    plugin:
//	      path: corpidp-driver
//	      sha256: <mcpauth plugin hash corpidp-driver>
//
// Corp IdP is a standard OpenID provider with two house rules, which is all
// this driver adds to the generic one: every client must name its tenant,
// and tokens must be refreshable, so offline_access is always requested.
package corpidp

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Name and Version identify the driver.
const (
	Name    = "corpidp"
	Version = "1.0.0"
)

// TenantHeader carries the tenant on every request to Corp IdP.
const TenantHeader = "X-Corp-Tenant"

// Factory builds the driver; it is what the plugin's main serves.
func Factory(ctx context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	tenant := cfg.Options["tenant"]
	if tenant == "" {
		return nil, errors.New("corpidp: options.tenant is required (ask the identity team for your tenant name)")
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"openid", "profile"}
	}
	scopes = withOfflineAccess(scopes)
	var discover func(context.Context, string) (*provider.AuthServerMetadata, error)
	if cfg.Discover != nil {
		discover = func(ctx context.Context, iss string) (*provider.AuthServerMetadata, error) {
			return cfg.Discover(ctx, iss)
		}
	}
	base, err := oidc.New(oidc.Config{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, Scopes: scopes, Metadata: cfg.Metadata, Discover: discover,
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: tenantTransport{tenant, http.DefaultTransport}},
	})
	if err != nil {
		return nil, err
	}
	return &driver{Driver: base, tenant: tenant}, nil
}

// driver is the generic driver with Corp IdP's description. Embedding keeps
// every capability of the generic driver.
type driver struct {
	provider.Driver
	tenant string
}

func (d *driver) Describe() provider.Description {
	desc := d.Driver.Describe()
	desc.Name, desc.Version = Name, Version
	desc.Quirks = []string{"sends " + TenantHeader + ": " + d.tenant + " on every request", "always requests offline_access"}
	return desc
}

// The generic driver's capabilities, passed through explicitly (embedding
// an interface value hides the concrete type's other methods), with Corp
// IdP's scope rule on the way in.
func (d *driver) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	return d.Driver.(provider.DeviceAuthorizer).StartDevice(ctx, withOfflineAccess(scopes))
}

func (d *driver) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (*provider.Token, error) {
	return d.Driver.(provider.DeviceAuthorizer).PollDevice(ctx, da)
}

func (d *driver) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	req.Scopes = withOfflineAccess(req.Scopes)
	return d.Driver.(provider.CodeExchanger).AuthCodeURL(ctx, req)
}

func (d *driver) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	return d.Driver.(provider.CodeExchanger).Exchange(ctx, code, verifier, redirect)
}

func (d *driver) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	return d.Driver.(provider.Refresher).Refresh(ctx, t)
}

func (d *driver) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	return d.Driver.(provider.Challenger).Challenge(resp)
}

func (d *driver) Identity(ctx context.Context, t *provider.Token) (*provider.Identity, error) {
	return d.Driver.(provider.Identifier).Identity(ctx, t)
}

// withOfflineAccess adds offline_access to explicitly requested scopes
// (none means the driver's defaults, which already have it).
func withOfflineAccess(scopes []string) []string {
	if len(scopes) == 0 || slices.Contains(scopes, "offline_access") {
		return scopes
	}
	return append(slices.Clone(scopes), "offline_access")
}

// tenantTransport adds the tenant header to every request.
type tenantTransport struct {
	tenant string
	next   http.RoundTripper
}

func (t tenantTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(TenantHeader, t.tenant)
	return t.next.RoundTrip(r)
}
