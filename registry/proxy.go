package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// challengeTimeout bounds a Challenge call through a proxy: Challenge has
// no context of its own, and a plugin that hangs must not hold up a tool call.
const challengeTimeout = 5 * time.Second

// proxy is a provider.Driver whose every call goes to a driver obtained at
// call time: a plugin process started on first use (PluginDriver), or a
// driver resolved once RFC 9728 discovery has named the issuer (providers
// configured by resource). It is the one forwarding type of the registry.
//
// A capability the target does not implement answers ErrGrantUnsupported.
type proxy struct {
	provider string // provider name, for errors
	clientID string

	// target returns the driver to call, starting or resolving it if
	// needed, and done, which sees the call's error and returns the one to
	// report (a plugin that died during the call says so).
	target func(ctx context.Context) (d provider.Driver, done func(rpc string, err error) error, err error)
	// ready returns the target if it is already there, without starting
	// anything; nil otherwise.
	ready func() provider.Driver
	// rebind returns a proxy acting for another client ID (CIMD).
	rebind func(clientID string) (provider.Driver, error)
}

var (
	_ provider.Driver           = (*proxy)(nil)
	_ provider.DeviceAuthorizer = (*proxy)(nil)
	_ provider.CodeExchanger    = (*proxy)(nil)
	_ provider.Refresher        = (*proxy)(nil)
	_ provider.Challenger       = (*proxy)(nil)
	_ provider.Identifier       = (*proxy)(nil)
	_ provider.ClientRebinder   = (*proxy)(nil)
	_ provider.Revoker          = (*proxy)(nil)
)

func (p *proxy) unsupported(what string) error {
	return fmt.Errorf("registry: provider %q: the driver has no %s: %w", p.provider, what, provider.ErrGrantUnsupported)
}

// forward runs call against the target if it implements capability C.
func forward[C any, R any](ctx context.Context, p *proxy, rpc string, call func(C) (R, error)) (R, error) {
	var zero R
	d, done, err := p.target(ctx)
	if err != nil {
		return zero, err
	}
	c, ok := d.(C)
	if !ok {
		return zero, p.unsupported(rpc)
	}
	r, err := call(c)
	if err = done(rpc, err); err != nil {
		return zero, err
	}
	return r, nil
}

// Describe is complete once the target is there (after any call that takes
// a context, such as Metadata); before that it names the provider only.
func (p *proxy) Describe() provider.Description {
	if d := p.ready(); d != nil {
		desc := d.Describe()
		if p.clientID != "" {
			desc.ClientID = p.clientID
		}
		return desc
	}
	return provider.Description{Name: p.provider, ClientID: p.clientID}
}

func (p *proxy) Metadata(ctx context.Context) (*provider.AuthServerMetadata, error) {
	return forward(ctx, p, "Metadata", func(d provider.Driver) (*provider.AuthServerMetadata, error) { return d.Metadata(ctx) })
}

func (p *proxy) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	return forward(ctx, p, "StartDevice", func(d provider.DeviceAuthorizer) (*provider.DeviceAuthorization, error) {
		return d.StartDevice(ctx, scopes)
	})
}

func (p *proxy) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (*provider.Token, error) {
	return forward(ctx, p, "PollDevice", func(d provider.DeviceAuthorizer) (*provider.Token, error) { return d.PollDevice(ctx, da) })
}

func (p *proxy) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	return forward(ctx, p, "AuthCodeURL", func(d provider.CodeExchanger) (string, error) { return d.AuthCodeURL(ctx, req) })
}

func (p *proxy) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	return forward(ctx, p, "Exchange", func(d provider.CodeExchanger) (*provider.Token, error) {
		return d.Exchange(ctx, code, verifier, redirect)
	})
}

func (p *proxy) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	return forward(ctx, p, "Refresh", func(d provider.Refresher) (*provider.Token, error) { return d.Refresh(ctx, t) })
}

// Revoke answers provider.ErrRevocationUnsupported when the target cannot
// revoke (no Revoker, or a plugin without the RPC).
func (p *proxy) Revoke(ctx context.Context, t *provider.Token) error {
	d, done, err := p.target(ctx)
	if err != nil {
		return err
	}
	r, ok := d.(provider.Revoker)
	if !ok {
		return fmt.Errorf("registry: provider %q: %w", p.provider, provider.ErrRevocationUnsupported)
	}
	return done("Revoke", r.Revoke(ctx, t))
}

func (p *proxy) Identity(ctx context.Context, t *provider.Token) (*provider.Identity, error) {
	return forward(ctx, p, "Identity", func(d provider.Identifier) (*provider.Identity, error) { return d.Identity(ctx, t) })
}

// Challenge is asked only after a login, when the target is there; its
// failure (a dead plugin) means "not a scope challenge".
func (p *proxy) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), challengeTimeout)
	defer cancel()
	var ok bool
	c, err := forward(ctx, p, "Challenge", func(d provider.Challenger) (*provider.ScopeChallenge, error) {
		var c *provider.ScopeChallenge
		c, ok = d.Challenge(resp)
		return c, nil
	})
	if err != nil {
		return nil, false
	}
	return c, ok
}

func (p *proxy) WithClientID(clientID string) (provider.Driver, error) {
	return p.rebind(clientID)
}
