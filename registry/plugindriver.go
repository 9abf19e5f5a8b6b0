package registry

import (
	"context"
	"errors"
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
	proxy
	sup *supervisor
}

// OpenPlugin returns a driver served by the plugin spec describes. Nothing
// starts until the first call.
func OpenPlugin(spec PluginSpec) *PluginDriver {
	return pluginDriver(newSupervisor(spec), "")
}

// pluginDriver is the view of a supervised plugin acting for clientID (""
// means the configured client).
func pluginDriver(sup *supervisor, clientID string) *PluginDriver {
	p := &PluginDriver{sup: sup}
	p.proxy = proxy{
		provider: sup.spec.Provider,
		clientID: clientID,
		target:   p.target,
		ready: func() provider.Driver {
			sup.mu.Lock()
			defer sup.mu.Unlock()
			if sup.conn == nil {
				return nil // a nil *Client must not become a non-nil interface
			}
			return sup.conn
		},
		rebind: func(id string) (provider.Driver, error) { return pluginDriver(sup, id), nil },
	}
	if clientID == "" {
		p.proxy.clientID = sup.spec.Config.ClientID
	}
	return p
}

// target starts the plugin if needed and returns its client, rebound to
// the view's client ID; done turns a transport failure into a crash.
func (p *PluginDriver) target(ctx context.Context) (provider.Driver, func(string, error) error, error) {
	c, err := p.sup.client(ctx)
	if err != nil {
		return nil, nil, err
	}
	var d provider.Driver = c
	if p.clientID != p.sup.spec.Config.ClientID {
		if d, err = c.WithClientID(p.clientID); err != nil {
			return nil, nil, err
		}
	}
	done := func(rpc string, err error) error {
		if driverplugin.IsTransport(err) {
			p.sup.crashed(c)
			return p.sup.transportError(rpc, err)
		}
		p.sup.succeeded()
		if errors.Is(err, driverplugin.ErrInvalidResponse) || errors.Is(err, provider.ErrIssuerMismatch) {
			// The host refused the plugin's answer: say which plugin.
			return fmt.Errorf("registry: %s: %w", p.sup.name(), err)
		}
		return err
	}
	return d, done, nil
}

// challenger is the plugin client's Challenge with its error.
type challenger interface {
	CheckChallenge(ctx context.Context, resp provider.APIResponse) (*provider.ScopeChallenge, bool, error)
}

// Challenge asks the plugin whether resp is a scope challenge. It has no
// error to return, so a plugin that dies or hangs meanwhile means "not a
// challenge"; the failure is logged and the plugin restarted on the next
// call, like any other.
func (p *PluginDriver) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), challengeTimeout)
	defer cancel()
	d, done, err := p.target(ctx)
	if err != nil {
		p.sup.log().Warn("scope challenge not checked: the plugin is not available", "error", err)
		return nil, false
	}
	c, ok := d.(challenger)
	if !ok {
		return nil, false
	}
	sc, ok, err := c.CheckChallenge(ctx, resp)
	if err = done("Challenge", err); err != nil {
		p.sup.log().Warn("scope challenge not checked", "error", err)
		return nil, false
	}
	return sc, ok
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
