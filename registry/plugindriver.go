package registry

import (
	"context"
	"fmt"

	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/provider"
)

// PluginDriver is a provider.Driver whose calls go to a supervised plugin
// process. The process starts at the first call, never before; its checksum
// is verified before every start. A call that finds the plugin dead fails
// with an error naming the plugin; the next call starts a fresh process
// (with backoff when it keeps dying).
//
// It implements every capability interface; what the plugin does not serve
// answers provider.ErrGrantUnsupported, and Describe lists only the grants
// the plugin offers.
type PluginDriver struct {
	sup      *supervisor
	clientID string // set when rebound (CIMD passthrough)
}

var (
	_ provider.Driver           = (*PluginDriver)(nil)
	_ provider.DeviceAuthorizer = (*PluginDriver)(nil)
	_ provider.CodeExchanger    = (*PluginDriver)(nil)
	_ provider.Refresher        = (*PluginDriver)(nil)
	_ provider.Challenger       = (*PluginDriver)(nil)
	_ provider.Identifier       = (*PluginDriver)(nil)
	_ provider.ClientRebinder   = (*PluginDriver)(nil)
)

// OpenPlugin returns a driver served by the plugin spec describes. Nothing
// starts until the first call.
func OpenPlugin(spec PluginSpec) *PluginDriver {
	return &PluginDriver{sup: newSupervisor(spec)}
}

// Close kills the plugin process; later calls fail.
func (p *PluginDriver) Close() { p.sup.kill() }

// Start starts and configures the plugin now, without a call to the
// driver (for `mcpauth drivers`, which shows what a plugin offers).
func (p *PluginDriver) Start(ctx context.Context) error {
	_, err := p.sup.client(ctx)
	return err
}

// PID is the plugin's process ID, or 0 when none runs.
func (p *PluginDriver) PID() int { return p.sup.pid() }

// view returns the driver to call: the plugin's client, rebound if needed.
func (p *PluginDriver) view(ctx context.Context) (*driverplugin.Client, provider.Driver, error) {
	c, err := p.sup.client(ctx)
	if err != nil {
		return nil, nil, err
	}
	if p.clientID == "" {
		return c, c, nil
	}
	d, err := c.WithClientID(p.clientID)
	return c, d, err
}

// call runs f against the plugin and turns a transport failure into a crash.
func (p *PluginDriver) call(ctx context.Context, rpc string, f func(d provider.Driver) error) error {
	c, d, err := p.view(ctx)
	if err != nil {
		return err
	}
	err = f(d)
	if driverplugin.IsTransport(err) {
		p.sup.crashed(c)
		return fmt.Errorf("registry: driver plugin for provider %q (%s) died during %s; it will be restarted on the next call: %w",
			p.sup.spec.Provider, p.sup.spec.Path, rpc, err)
	}
	p.sup.succeeded()
	return err
}

// Describe is complete once the plugin has started (after any call that
// takes a context, such as Metadata); before that it names the provider only.
func (p *PluginDriver) Describe() provider.Description {
	p.sup.mu.Lock()
	c := p.sup.conn
	p.sup.mu.Unlock()
	if c == nil {
		return provider.Description{Name: p.sup.spec.Provider, ClientID: p.sup.spec.Config.ClientID}
	}
	d := c.Describe()
	if p.clientID != "" {
		d.ClientID = p.clientID
	}
	return d
}

func (p *PluginDriver) Metadata(ctx context.Context) (m *provider.AuthServerMetadata, err error) {
	err = p.call(ctx, "Metadata", func(d provider.Driver) error { m, err = d.Metadata(ctx); return err })
	return m, err
}

func (p *PluginDriver) StartDevice(ctx context.Context, scopes []string) (r *provider.DeviceAuthorization, err error) {
	err = p.call(ctx, "StartDevice", func(d provider.Driver) error {
		r, err = d.(provider.DeviceAuthorizer).StartDevice(ctx, scopes)
		return err
	})
	return r, err
}

func (p *PluginDriver) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (t *provider.Token, err error) {
	err = p.call(ctx, "PollDevice", func(d provider.Driver) error {
		t, err = d.(provider.DeviceAuthorizer).PollDevice(ctx, da)
		return err
	})
	return t, err
}

func (p *PluginDriver) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (u string, err error) {
	err = p.call(ctx, "AuthCodeURL", func(d provider.Driver) error {
		u, err = d.(provider.CodeExchanger).AuthCodeURL(ctx, req)
		return err
	})
	return u, err
}

func (p *PluginDriver) Exchange(ctx context.Context, code, verifier, redirect string) (t *provider.Token, err error) {
	err = p.call(ctx, "Exchange", func(d provider.Driver) error {
		t, err = d.(provider.CodeExchanger).Exchange(ctx, code, verifier, redirect)
		return err
	})
	return t, err
}

func (p *PluginDriver) Refresh(ctx context.Context, tok *provider.Token) (t *provider.Token, err error) {
	err = p.call(ctx, "Refresh", func(d provider.Driver) error {
		t, err = d.(provider.Refresher).Refresh(ctx, tok)
		return err
	})
	return t, err
}

func (p *PluginDriver) Challenge(resp provider.APIResponse) (c *provider.ScopeChallenge, ok bool) {
	// Bounded by the plugin client's own Challenge timeout.
	p.call(context.Background(), "Challenge", func(d provider.Driver) error {
		c, ok = d.(provider.Challenger).Challenge(resp)
		return nil
	})
	return c, ok
}

func (p *PluginDriver) Identity(ctx context.Context, t *provider.Token) (id *provider.Identity, err error) {
	err = p.call(ctx, "Identity", func(d provider.Driver) error {
		id, err = d.(provider.Identifier).Identity(ctx, t)
		return err
	})
	return id, err
}

func (p *PluginDriver) WithClientID(clientID string) (provider.Driver, error) {
	return &PluginDriver{sup: p.sup, clientID: clientID}, nil
}
