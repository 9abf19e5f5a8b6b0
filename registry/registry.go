package registry

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/internal/suggest"
	"github.com/mcpauth/mcpauth/provider"
)

// Provider is a configured provider, ready for logins: its description (the
// config file merged over the server's defaults) and its driver. The driver
// makes no request and starts no process until the first login.
type Provider struct {
	config.Provider
	Driver provider.Driver
}

// Options configures Open.
type Options struct {
	// Drivers is the driver catalogue providers are resolved against, in
	// order of precedence for issuer claims. Hosts pass drivers.Builtin,
	// plus registrations of their own.
	Drivers []provider.Registration
	// Discoverer is shared by every provider; nil means discovery.Default
	// (drivers then discover through it too, each in its own process).
	Discoverer *discovery.Discoverer
	// Logger receives resolution decisions; nil means slog.Default().
	Logger *slog.Logger
}

// Registry holds the providers of a config file and the plugin processes
// behind them.
type Registry struct {
	catalog []provider.Registration
	disc    *discovery.Discoverer
	inject  bool // disc was given: in-process drivers discover through it
	logger  *slog.Logger

	providers []*Provider

	mu      sync.Mutex
	plugins []*PluginDriver
	closed  bool
}

// Open turns a validated config file into providers. It checks what can be
// checked without the network — driver names, driver options (by building
// each driver once in process), plugin paths and checksum syntax — and
// reports every problem at once. It makes no request and starts no plugin.
func Open(f *config.File, opts Options) (*Registry, error) {
	r := &Registry{catalog: opts.Drivers, disc: opts.Discoverer, inject: opts.Discoverer != nil, logger: opts.Logger}
	if r.disc == nil {
		r.disc = discovery.Default
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	var problems []error
	for _, p := range f.Providers {
		rp := &Provider{Provider: p}
		var err error
		if p.Issuer != "" {
			reg, reason, rerr := r.Resolve(p.Driver, p.Issuer)
			if rerr != nil {
				problems = append(problems, fmt.Errorf("registry: provider %q: %w", p.Name, rerr))
				continue
			}
			r.logger.Debug("mcpauth: driver resolved", "provider", p.Name, "driver", reg.Name, "reason", reason)
			rp.Driver, err = r.build(p, f.PluginDir, reg, p.Issuer)
		} else {
			rp.Driver, err = r.byResource(p, f.PluginDir)
		}
		if err != nil {
			problems = append(problems, err)
			continue
		}
		r.providers = append(r.providers, rp)
	}
	if len(problems) > 0 {
		r.Close()
		return nil, errors.Join(problems...)
	}
	return r, nil
}

// Resolve picks the catalogue entry for an issuer: an explicit driver name
// wins ("external" resolves to no entry: a plugin); then the first entry
// that claims the issuer (github.com, slack.com, *.okta.com, …); then the
// entry named "oidc". It says why.
func (r *Registry) Resolve(explicit, issuer string) (reg provider.Registration, reason string, err error) {
	return Resolve(r.catalog, explicit, issuer)
}

// Resolve is Registry.Resolve over a catalogue.
func Resolve(catalog []provider.Registration, explicit, issuer string) (reg provider.Registration, reason string, err error) {
	if explicit == config.DriverExternal {
		return provider.Registration{Name: config.DriverExternal}, "configured (driver: external, a plugin)", nil
	}
	if explicit != "" {
		if reg, ok := lookup(catalog, explicit); ok {
			return reg, "configured (driver: " + explicit + ")", nil
		}
		return provider.Registration{}, "", unknownDriver(catalog, explicit)
	}
	for _, reg := range catalog {
		if reg.Claims != nil && reg.Claims(issuer) {
			return reg, reg.Claim, nil
		}
	}
	host := issuer
	if u, err := url.Parse(issuer); err == nil {
		host = u.Host
	}
	if reg, ok := lookup(catalog, "oidc"); ok {
		return reg, "no driver claims " + host + ": the generic OpenID Connect / RFC 8414 driver", nil
	}
	return provider.Registration{}, "", fmt.Errorf("registry: no driver claims %s and the catalogue has no generic oidc driver (drivers: %s)", host, names(catalog))
}

func lookup(catalog []provider.Registration, name string) (provider.Registration, bool) {
	i := slices.IndexFunc(catalog, func(r provider.Registration) bool { return r.Name == name })
	if i < 0 {
		return provider.Registration{}, false
	}
	return catalog[i], true
}

func names(catalog []provider.Registration) string {
	out := make([]string, 0, len(catalog)+1)
	for _, r := range catalog {
		out = append(out, r.Name)
	}
	out = append(out, config.DriverExternal)
	return strings.Join(out, ", ")
}

func unknownDriver(catalog []provider.Registration, name string) error {
	known := strings.Split(names(catalog), ", ")
	if s := suggest.Closest(name, known); s != "" {
		return fmt.Errorf("registry: unknown driver %q (did you mean %q? drivers: %s)", name, s, strings.Join(known, ", "))
	}
	return fmt.Errorf("registry: unknown driver %q (drivers: %s)", name, strings.Join(known, ", "))
}

// driverConfig is the driver's view of a provider description.
func driverConfig(p config.Provider, issuer string) provider.DriverConfig {
	clientID := p.ClientID
	if clientID == "" {
		clientID = p.ClientIDMetadataDocument
	}
	return provider.DriverConfig{
		Issuer: issuer, ClientID: clientID, ClientSecret: p.ClientSecret, Scopes: p.Scopes,
		Options: p.Options, Endpoints: p.Endpoints, ExtraParams: p.ExtraParams,
	}
}

// build makes the driver for one provider: in process, as a built-in
// plugin (this binary re-executed), or as an external plugin.
func (r *Registry) build(p config.Provider, pluginDir string, reg provider.Registration, issuer string) (provider.Driver, error) {
	cfg := driverConfig(p, issuer)
	if reg.Name == config.DriverExternal {
		if p.Plugin == nil {
			return nil, fmt.Errorf("registry: provider %q: driver external needs a plugin (path and sha256)", p.Name)
		}
		path, err := p.Plugin.Resolve(pluginDir)
		if err != nil {
			return nil, fmt.Errorf("registry: provider %q: %w", p.Name, err)
		}
		sum, err := hex.DecodeString(p.Plugin.SHA256)
		if err != nil || len(sum) != 32 {
			return nil, fmt.Errorf("registry: provider %q: plugin.sha256 %q is not 64 hex digits", p.Name, p.Plugin.SHA256)
		}
		// An external plugin's own word cannot widen where its login URLs
		// may point: only the configured verification_hosts can.
		return r.track(OpenPlugin(PluginSpec{Provider: p.Name, Path: path, SHA256: sum, Env: p.Plugin.Env, Config: cfg,
			VerificationHosts: p.VerificationHosts})), nil
	}
	if r.inject {
		cfg.Discover = func(ctx context.Context, iss string) (*provider.AuthServerMetadata, error) {
			return r.disc.AuthServer(ctx, iss)
		}
	}
	// Building makes no request: it checks the options and URLs now, so a
	// typo is a start-up error even for a driver that will run as a plugin.
	d, err := reg.New(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("registry: provider %q: %w", p.Name, err)
	}
	if err := checkLoopback(p, d.Describe()); err != nil {
		return nil, err
	}
	if p.Isolation == config.IsolationInProcess || !driverplugin.ServesBuiltin(reg.Name) {
		if p.Isolation != config.IsolationInProcess {
			r.logger.Debug("mcpauth: driver runs in process: this binary does not serve it as a plugin", "provider", p.Name, "driver", reg.Name)
		}
		return d, nil
	}
	cfg.Discover = nil // a plugin discovers in its own process
	spec, err := BuiltinPluginSpec(p.Name, reg.Name, cfg)
	if err != nil {
		return nil, err
	}
	spec.VerificationHosts = append(spec.VerificationHosts, p.VerificationHosts...)
	return r.track(OpenPlugin(spec)), nil
}

// checkLoopback refuses, at start-up, a PKCE-capable provider whose issuer
// matches redirect URIs port included but that has no fixed port: the
// login would fail at the authorization server with a redirect mismatch.
func checkLoopback(p config.Provider, desc provider.Description) error {
	if !desc.LoopbackPortFixed || p.LoopbackPort != 0 || p.Grant == config.GrantDevice || !desc.Offers(provider.GrantPKCE) {
		return nil
	}
	host := cmp.Or(p.LoopbackHost, desc.LoopbackHost, "127.0.0.1")
	return fmt.Errorf("registry: provider %q: the %s driver's issuer matches redirect URIs exactly, port included, so a browser login needs a fixed port: "+
		"set loopback_port (e.g. 8765) and register http://%s/callback with the app, or set grant: device",
		p.Name, desc.Name, net.JoinHostPort(host, "8765"))
}

// byResource returns a driver resolved at the first login: the issuer, and
// so the driver, of a provider configured by resource are known only after
// RFC 9728 discovery.
func (r *Registry) byResource(p config.Provider, pluginDir string) (provider.Driver, error) {
	if p.Driver != "" {
		if _, _, err := r.Resolve(p.Driver, ""); err != nil {
			return nil, fmt.Errorf("registry: provider %q: %w", p.Name, err)
		}
	}
	var (
		mu      sync.Mutex // guards d
		resolve sync.Mutex // one resolution at a time, without blocking Describe
		d       provider.Driver
	)
	ready := func() provider.Driver {
		mu.Lock()
		defer mu.Unlock()
		return d
	}
	target := func(ctx context.Context) (provider.Driver, func(string, error) error, error) {
		resolve.Lock()
		defer resolve.Unlock()
		if ready() == nil {
			prm, err := r.disc.ProtectedResource(ctx, p.Resource)
			if err != nil {
				return nil, nil, err
			}
			iss := prm.AuthorizationServers[0]
			reg, reason, err := r.Resolve(p.Driver, iss)
			if err != nil {
				return nil, nil, fmt.Errorf("registry: provider %q: %w", p.Name, err)
			}
			r.logger.Info("mcpauth: driver resolved", "provider", p.Name, "resource", p.Resource, "issuer", iss, "driver", reg.Name, "reason", reason)
			built, err := r.build(p, pluginDir, reg, iss)
			if err != nil {
				return nil, nil, err
			}
			mu.Lock()
			d = built
			mu.Unlock()
		}
		return ready(), func(_ string, err error) error { return err }, nil
	}
	return &proxy{
		provider: p.Name,
		clientID: driverConfig(p, "").ClientID,
		target:   target,
		ready:    ready,
		rebind: func(clientID string) (provider.Driver, error) {
			rb, ok := ready().(provider.ClientRebinder)
			if !ok {
				return nil, fmt.Errorf("registry: provider %q cannot act for another client ID yet: %w", p.Name, provider.ErrGrantUnsupported)
			}
			return rb.WithClientID(clientID)
		},
	}, nil
}

// track remembers a plugin for Close; one made after Close (a provider
// configured by resource resolving late) is killed at once.
func (r *Registry) track(p *PluginDriver) *PluginDriver {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		p.Close()
	}
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

// Names lists the provider names in config order.
func (r *Registry) Names() []string {
	out := make([]string, len(r.providers))
	for i, p := range r.providers {
		out[i] = p.Name
	}
	return out
}

// Close kills every plugin process, including those started for providers
// configured by resource. Drivers fail after Close.
func (r *Registry) Close() {
	r.mu.Lock()
	plugins := r.plugins
	r.plugins = nil
	r.closed = true
	r.mu.Unlock()
	for _, p := range plugins {
		p.Close()
	}
}

// DriverNames lists a catalogue's driver names and "external", for
// validating a config file's driver: fields.
func DriverNames(catalog []provider.Registration) []string {
	return strings.Split(names(catalog), ", ")
}
