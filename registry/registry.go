package registry

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/drivers/github"
	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/drivers/slack"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

// Provider is a configured provider, ready for logins. Its Driver makes no
// request and starts no process until the first login.
type Provider struct {
	Name   string
	Driver provider.Driver
	// Scopes to request; nil means the driver's defaults.
	Scopes       []string
	Grant        login.GrantPreference
	LoopbackPort int
	// ClientIDMetadataDocument is the configured CIMD URL, if any.
	ClientIDMetadataDocument string
}

// Options configures Open.
type Options struct {
	// Discoverer is shared by every provider; nil means a new one.
	Discoverer *discovery.Discoverer
	// Logger receives resolution decisions; nil means slog.Default().
	Logger *slog.Logger
}

// Registry holds the providers of a config file and the plugin processes
// behind them.
type Registry struct {
	providers []*Provider
	disc      *discovery.Discoverer
	discSet   bool // disc was injected: drivers use it too
	mu        sync.Mutex
	plugins   []*PluginDriver
}

// Open turns a validated config file into providers. It checks what can be
// checked without the network (plugin paths and checksum syntax); it makes
// no request and starts no plugin.
func Open(f *config.File, opts Options) (*Registry, error) {
	r := &Registry{disc: opts.Discoverer, discSet: opts.Discoverer != nil}
	if r.disc == nil {
		r.disc = discovery.Default
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	for _, p := range f.Providers {
		grant, err := login.ParseGrantPreference(p.Grant)
		if err != nil {
			return nil, fmt.Errorf("registry: provider %q: %w", p.Name, err)
		}
		rp := &Provider{Name: p.Name, Scopes: p.Scopes, Grant: grant, LoopbackPort: p.LoopbackPort,
			ClientIDMetadataDocument: p.ClientIDMetadataDocument}
		if p.Issuer != "" {
			name, reason := ResolveDriver(p.Driver, p.Issuer, p.Options)
			logger.Debug("mcpauth: driver resolved", "provider", p.Name, "driver", name, "reason", reason)
			rp.Driver, err = r.build(p, f.PluginDir, name, p.Issuer)
		} else {
			// The issuer is known only after RFC 9728 discovery: resolve at
			// the first login.
			cp := p
			rp.Driver = &lazyDriver{name: p.Name, clientID: clientID(p), build: func(ctx context.Context) (provider.Driver, error) {
				prm, err := r.disc.ProtectedResource(ctx, cp.Resource)
				if err != nil {
					return nil, err
				}
				iss := prm.AuthorizationServers[0]
				name, reason := ResolveDriver(cp.Driver, iss, cp.Options)
				logger.Info("mcpauth: driver resolved", "provider", cp.Name, "resource", cp.Resource, "issuer", iss, "driver", name, "reason", reason)
				return r.build(cp, f.PluginDir, name, iss)
			}}
		}
		if err != nil {
			r.Close()
			return nil, err
		}
		r.providers = append(r.providers, rp)
	}
	return r, nil
}

func clientID(p config.Provider) string {
	if p.ClientID != "" {
		return p.ClientID
	}
	return p.ClientIDMetadataDocument
}

// build makes the driver for one provider: in process, as a built-in
// plugin (this binary re-executed), or as an external plugin.
func (r *Registry) build(p config.Provider, pluginDir, driverName, issuer string) (provider.Driver, error) {
	cfg := provider.DriverConfig{Issuer: issuer, ClientID: clientID(p), Scopes: p.Scopes, Options: p.Options}
	if r.discSet {
		cfg.Discover = func(ctx context.Context, iss string) (*provider.AuthServerMetadata, error) {
			return r.disc.AuthServer(ctx, iss)
		}
	}
	if p.Plugin != nil {
		path, err := p.Plugin.Resolve(pluginDir)
		if err != nil {
			return nil, fmt.Errorf("registry: provider %q: %w", p.Name, err)
		}
		sum, err := hex.DecodeString(p.Plugin.SHA256)
		if err != nil || len(sum) != 32 {
			return nil, fmt.Errorf("registry: provider %q: plugin.sha256 %q is not 64 hex digits", p.Name, p.Plugin.SHA256)
		}
		cfg.Discover = nil // a plugin discovers in its own process
		return r.track(OpenPlugin(PluginSpec{Provider: p.Name, Path: path, SHA256: sum, Env: p.Plugin.Env, Config: cfg})), nil
	}
	f, ok := builtins[driverName]
	if !ok {
		return nil, fmt.Errorf("registry: provider %q: unknown driver %q (built-in: %s; or driver: external with a plugin)",
			p.Name, driverName, strings.Join(Builtins(), ", "))
	}
	if p.Isolation == config.IsolationInProcess {
		return f(context.Background(), cfg)
	}
	cfg.Discover = nil
	spec, err := BuiltinPluginSpec(p.Name, driverName, cfg)
	if err != nil {
		return nil, err
	}
	return r.track(OpenPlugin(spec)), nil
}

func (r *Registry) track(p *PluginDriver) *PluginDriver {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plugins = append(r.plugins, p)
	return p
}

// Providers returns the providers in config order.
func (r *Registry) Providers() []*Provider { return r.providers }

// Provider returns the provider with that name.
func (r *Registry) Provider(name string) (*Provider, bool) {
	for _, p := range r.providers {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Close kills every plugin process. Drivers fail after Close.
func (r *Registry) Close() {
	r.mu.Lock()
	plugins := r.plugins
	r.plugins = nil
	r.mu.Unlock()
	for _, p := range plugins {
		p.Close()
	}
	for _, p := range r.providers {
		if l, ok := p.Driver.(*lazyDriver); ok {
			l.close()
		}
	}
}

// issuerClaim is a built-in driver's claim on issuers by URL.
type issuerClaim struct {
	driver string
	claims func(issuer string) bool
	why    string
}

// claims are consulted in order; the generic oidc driver takes the rest.
var claims = []issuerClaim{
	{github.Name, github.Claims, "github claims https://github.com (static endpoints, no discovery)"},
	{slack.Name, slack.Claims, "slack claims https://slack.com (OAuth v2 user tokens, PKCE only)"},
	{okta.Name, okta.Claims, "okta claims *.okta.com, *.oktapreview.com and *.okta-emea.com"},
}

// ResolveDriver picks the driver for an issuer: an explicit driver in the
// config wins; then a built-in driver that claims the issuer (github.com,
// slack.com, *.okta.com, …); then the generic oidc driver. It says why.
func ResolveDriver(explicit, issuer string, options map[string]string) (name, reason string) {
	if explicit != "" {
		return explicit, "configured (driver: " + explicit + ")"
	}
	for _, c := range claims {
		if c.claims(issuer) {
			return c.driver, c.why
		}
	}
	host := issuer
	if u, err := url.Parse(issuer); err == nil {
		host = u.Host
	}
	return "oidc", "no built-in driver claims " + host + ": the generic OpenID Connect / RFC 8414 driver"
}

// lazyDriver builds its driver at the first call that has a context (for
// providers configured by resource URL, whose issuer and so whose driver
// are known only after RFC 9728 discovery).
type lazyDriver struct {
	name, clientID string
	build          func(ctx context.Context) (provider.Driver, error)

	mu sync.Mutex
	d  provider.Driver
}

func (l *lazyDriver) get(ctx context.Context) (provider.Driver, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.d != nil {
		return l.d, nil
	}
	d, err := l.build(ctx)
	if err != nil {
		return nil, err
	}
	l.d = d
	return d, nil
}

func (l *lazyDriver) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.d.(*PluginDriver); ok {
		p.Close()
	}
}

var errNotBuilt = errors.New("registry: driver not resolved yet")

func (l *lazyDriver) built() provider.Driver {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.d
}

func (l *lazyDriver) Describe() provider.Description {
	if d := l.built(); d != nil {
		return d.Describe()
	}
	return provider.Description{Name: l.name, ClientID: l.clientID}
}

func (l *lazyDriver) Metadata(ctx context.Context) (*provider.AuthServerMetadata, error) {
	d, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return d.Metadata(ctx)
}

func (l *lazyDriver) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	d, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	da, ok := d.(provider.DeviceAuthorizer)
	if !ok {
		return nil, fmt.Errorf("registry: provider %q: %w", l.name, provider.ErrGrantUnsupported)
	}
	return da.StartDevice(ctx, scopes)
}

func (l *lazyDriver) PollDevice(ctx context.Context, a *provider.DeviceAuthorization) (*provider.Token, error) {
	d, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	da, ok := d.(provider.DeviceAuthorizer)
	if !ok {
		return nil, fmt.Errorf("registry: provider %q: %w", l.name, provider.ErrGrantUnsupported)
	}
	return da.PollDevice(ctx, a)
}

func (l *lazyDriver) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	d, err := l.get(ctx)
	if err != nil {
		return "", err
	}
	ce, ok := d.(provider.CodeExchanger)
	if !ok {
		return "", fmt.Errorf("registry: provider %q: %w", l.name, provider.ErrGrantUnsupported)
	}
	return ce.AuthCodeURL(ctx, req)
}

func (l *lazyDriver) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	d, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	ce, ok := d.(provider.CodeExchanger)
	if !ok {
		return nil, fmt.Errorf("registry: provider %q: %w", l.name, provider.ErrGrantUnsupported)
	}
	return ce.Exchange(ctx, code, verifier, redirect)
}

func (l *lazyDriver) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	d, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	r, ok := d.(provider.Refresher)
	if !ok {
		return nil, fmt.Errorf("registry: provider %q: %w", l.name, provider.ErrGrantUnsupported)
	}
	return r.Refresh(ctx, t)
}

func (l *lazyDriver) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	c, ok := l.built().(provider.Challenger)
	if !ok {
		return nil, false
	}
	return c.Challenge(resp)
}

func (l *lazyDriver) Identity(ctx context.Context, t *provider.Token) (*provider.Identity, error) {
	d, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	i, ok := d.(provider.Identifier)
	if !ok {
		return nil, fmt.Errorf("registry: provider %q: %w", l.name, provider.ErrGrantUnsupported)
	}
	return i.Identity(ctx, t)
}

func (l *lazyDriver) WithClientID(clientID string) (provider.Driver, error) {
	d := l.built()
	if d == nil {
		return nil, errNotBuilt
	}
	rb, ok := d.(provider.ClientRebinder)
	if !ok {
		return nil, fmt.Errorf("registry: provider %q cannot act for another client ID: %w", l.name, provider.ErrGrantUnsupported)
	}
	return rb.WithClientID(clientID)
}
