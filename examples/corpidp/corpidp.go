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
// this driver adds to the generic one it embeds: every client must name
// its tenant (a header on every request), and tokens must be refreshable,
// so offline_access is always requested. Every other method is the generic
// driver's, promoted by embedding.
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

// Options are the driver's settings under options: in configuration.
type Options struct {
	// Tenant is the Corp IdP tenant; required.
	Tenant string `option:"tenant"`
}

// Factory builds the driver; it is what the plugin's main serves.
func Factory(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	var opts Options
	if err := cfg.DecodeOptions(Name, &opts); err != nil {
		return nil, err
	}
	if opts.Tenant == "" {
		return nil, errors.New("corpidp: options.tenant is required (ask the identity team for your tenant name)")
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"openid", "profile"}
	}
	base, err := oidc.New(oidc.Config{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, Scopes: withOfflineAccess(scopes),
		Metadata: cfg.Metadata, Discover: cfg.Discover, Endpoints: cfg.Endpoints, ExtraParams: cfg.ExtraParams,
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: tenantTransport{opts.Tenant, http.DefaultTransport}},
	})
	if err != nil {
		return nil, err
	}
	return &Driver{Driver: base, tenant: opts.Tenant}, nil
}

// Driver is the generic driver with Corp IdP's description and scope rule.
type Driver struct {
	*oidc.Driver
	tenant string
}

func (d *Driver) Describe() provider.Description {
	desc := d.Driver.Describe()
	desc.Name, desc.Version = Name, Version
	desc.Quirks = []string{"sends " + TenantHeader + ": " + d.tenant + " on every request", "always requests offline_access"}
	return desc
}

// StartDevice and AuthCodeURL add offline_access to the scopes asked for.
func (d *Driver) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	return d.Driver.StartDevice(ctx, withOfflineAccess(scopes))
}

func (d *Driver) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	req.Scopes = withOfflineAccess(req.Scopes)
	return d.Driver.AuthCodeURL(ctx, req)
}

// WithClientID keeps Corp IdP's rules for another client (a CIMD URL).
func (d *Driver) WithClientID(clientID string) (provider.Driver, error) {
	base, err := d.Driver.WithClientID(clientID)
	if err != nil {
		return nil, err
	}
	return &Driver{Driver: base.(*oidc.Driver), tenant: d.tenant}, nil
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
