package driverplugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	pb "github.com/mcpauth/mcpauth/internal/driverpb"
	"github.com/mcpauth/mcpauth/provider"
)

// TransportError means the plugin could not be reached: it crashed or was
// killed. The supervisor restarts it on the next call.
type TransportError struct {
	RPC string
	Err error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("driverplugin: %s: plugin unreachable: %v", e.RPC, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Client is the host's view of a configured plugin driver. It implements
// provider.Driver and every capability interface; a capability the plugin
// does not serve (per Capabilities) answers ErrGrantUnsupported without a
// call (Revoke: ErrRevocationUnsupported, which is also what a plugin older
// than protocol minor 1 gets), Challenge answers "not a challenge", and
// Describe lists only what the plugin offers, so grant selection never
// picks a missing grant.
type Client struct {
	rpc      pb.DriverClient
	desc     provider.Description
	rpcs     []string
	minor    uint32
	clientID string // non-empty when rebound (CIMD)
}

// Connect asks the plugin for its capabilities and configures it.
func Connect(ctx context.Context, rpc pb.DriverClient, cfg provider.DriverConfig) (*Client, error) {
	pre, err := rpc.Capabilities(ctx, &pb.CapabilitiesRequest{HostMinor: ProtocolMinor})
	if err != nil {
		return nil, decode("Capabilities", err)
	}
	// A plugin older than minor 2 would silently drop these and then fail
	// at login (Google without its secret): refuse it now, naming why.
	if pre.GetMinor() < 2 && (cfg.ClientSecret != "" || !cfg.Endpoints.IsZero() || len(cfg.ExtraParams) > 0) {
		return nil, fmt.Errorf("driverplugin: the plugin speaks protocol minor %d, which cannot carry client_secret, endpoints or extra_params (minor 2 can); rebuild it with this mcpauth's sdk/driver", pre.GetMinor())
	}
	resp, err := rpc.Configure(ctx, &pb.ConfigureRequest{
		Issuer: cfg.Issuer, ClientId: cfg.ClientID, Scopes: cfg.Scopes, Options: cfg.Options,
		Metadata:     toProtoMetadata(cfg.Metadata),
		ClientSecret: cfg.ClientSecret,
		Endpoints:    toProtoEndpoints(cfg.Endpoints),
		ExtraParams:  cfg.ExtraParams,
	})
	if err != nil {
		return nil, decode("Configure", err)
	}
	caps, err := rpc.Capabilities(ctx, &pb.CapabilitiesRequest{HostMinor: ProtocolMinor})
	if err != nil {
		return nil, decode("Capabilities", err)
	}
	return &Client{rpc: rpc, desc: fromProtoDescription(resp.GetDescription()), rpcs: caps.GetRpcs(), minor: caps.GetMinor()}, nil
}

// Minor is the plugin's protocol minor version.
func (c *Client) Minor() uint32 { return c.minor }

// Serves reports whether the plugin serves the named RPC.
func (c *Client) Serves(rpc string) bool { return slices.Contains(c.rpcs, rpc) }

func decode(rpc string, err error) error {
	d, transport := fromStatus(err)
	if transport {
		return &TransportError{RPC: rpc, Err: err}
	}
	return d
}

func (c *Client) unsupported(rpc string) error {
	return fmt.Errorf("driverplugin: driver %s does not serve %s: %w", c.desc.Name, rpc, provider.ErrGrantUnsupported)
}

var (
	_ provider.Driver           = (*Client)(nil)
	_ provider.DeviceAuthorizer = (*Client)(nil)
	_ provider.CodeExchanger    = (*Client)(nil)
	_ provider.Refresher        = (*Client)(nil)
	_ provider.Challenger       = (*Client)(nil)
	_ provider.Identifier       = (*Client)(nil)
	_ provider.ClientRebinder   = (*Client)(nil)
	_ provider.Revoker          = (*Client)(nil)
)

func (c *Client) Describe() provider.Description {
	d := c.desc
	if c.clientID != "" {
		d.ClientID = c.clientID
	}
	return d
}

func (c *Client) Metadata(ctx context.Context) (*provider.AuthServerMetadata, error) {
	m, err := c.rpc.Metadata(ctx, &pb.MetadataRequest{ClientId: c.clientID})
	if err != nil {
		return nil, decode("Metadata", err)
	}
	return fromProtoMetadata(m), nil
}

func (c *Client) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	if !c.Serves("StartDevice") {
		return nil, c.unsupported("StartDevice")
	}
	r, err := c.rpc.StartDevice(ctx, &pb.StartDeviceRequest{ClientId: c.clientID, Scopes: scopes})
	if err != nil {
		return nil, decode("StartDevice", err)
	}
	return fromProtoDevice(r), nil
}

func (c *Client) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (*provider.Token, error) {
	if !c.Serves("PollDevice") {
		return nil, c.unsupported("PollDevice")
	}
	t, err := c.rpc.PollDevice(ctx, &pb.PollDeviceRequest{ClientId: c.clientID, Authorization: toProtoDevice(da)})
	if err != nil {
		return nil, decode("PollDevice", err)
	}
	return fromProtoToken(t), nil
}

func (c *Client) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	if !c.Serves("AuthCodeURL") {
		return "", c.unsupported("AuthCodeURL")
	}
	r, err := c.rpc.AuthCodeURL(ctx, &pb.AuthCodeURLRequest{ClientId: c.clientID, State: req.State,
		CodeChallenge: req.CodeChallenge, RedirectUri: req.RedirectURI, Scopes: req.Scopes})
	if err != nil {
		return "", decode("AuthCodeURL", err)
	}
	return r.GetUrl(), nil
}

func (c *Client) Exchange(ctx context.Context, code, verifier, redirectURI string) (*provider.Token, error) {
	if !c.Serves("Exchange") {
		return nil, c.unsupported("Exchange")
	}
	t, err := c.rpc.Exchange(ctx, &pb.ExchangeRequest{ClientId: c.clientID, Code: code, Verifier: verifier, RedirectUri: redirectURI})
	if err != nil {
		return nil, decode("Exchange", err)
	}
	return fromProtoToken(t), nil
}

func (c *Client) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	if !c.Serves("Refresh") {
		return nil, c.unsupported("Refresh")
	}
	r, err := c.rpc.Refresh(ctx, &pb.RefreshRequest{ClientId: c.clientID, Token: toProtoToken(t)})
	if err != nil {
		return nil, decode("Refresh", err)
	}
	return fromProtoToken(r), nil
}

// challengeTimeout bounds a Challenge call, which has no context in the
// provider interface: a hung plugin must not hang the API call behind it.
const challengeTimeout = 10 * time.Second

func (c *Client) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	if !c.Serves("Challenge") {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), challengeTimeout)
	defer cancel()
	r, err := c.rpc.Challenge(ctx, &pb.ChallengeRequest{ClientId: c.clientID,
		StatusCode: int32(resp.StatusCode), Header: toProtoHeader(resp.Header), Body: resp.Body})
	if err != nil || !r.GetOk() {
		return nil, false
	}
	return &provider.ScopeChallenge{Scopes: r.GetScopes(), Permissions: r.GetPermissions(), Description: r.GetDescription()}, true
}

func (c *Client) Identity(ctx context.Context, t *provider.Token) (*provider.Identity, error) {
	if !c.Serves("Identity") {
		return nil, c.unsupported("Identity")
	}
	r, err := c.rpc.Identity(ctx, &pb.IdentityRequest{ClientId: c.clientID, Token: toProtoToken(t)})
	if err != nil {
		return nil, decode("Identity", err)
	}
	return &provider.Identity{Subject: r.GetSubject(), DisplayName: r.GetDisplayName()}, nil
}

// Revoke asks the plugin's driver to revoke t (RFC 7009). A plugin that does
// not serve Revoke (an older one, or a driver without revocation) is not
// called.
func (c *Client) Revoke(ctx context.Context, t *provider.Token) error {
	if !c.Serves("Revoke") {
		return fmt.Errorf("driverplugin: driver %s does not serve Revoke: %w", c.desc.Name, provider.ErrRevocationUnsupported)
	}
	if _, err := c.rpc.Revoke(ctx, &pb.RevokeRequest{ClientId: c.clientID, Token: toProtoToken(t)}); err != nil {
		return decode("Revoke", err)
	}
	return nil
}

// WithClientID returns a view of the same plugin acting for another client.
func (c *Client) WithClientID(clientID string) (provider.Driver, error) {
	if !c.Serves("Rebind") {
		return nil, fmt.Errorf("driverplugin: driver %s cannot act for another client ID: %w", c.desc.Name, provider.ErrGrantUnsupported)
	}
	cp := *c
	cp.clientID = clientID
	return &cp, nil
}

// IsTransport reports whether err means the plugin is unreachable.
func IsTransport(err error) bool {
	var te *TransportError
	return errors.As(err, &te)
}
