package driverplugin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/mcpauth/mcpauth/internal/driverpb"
	"github.com/mcpauth/mcpauth/provider"
)

// Limits of the driver protocol, on the host side.
const (
	// DefaultRPCTimeout bounds every RPC to a plugin. One RPC is one step of
	// a grant (one poll, one token request), never a whole login, so a
	// minute is far beyond any honest answer; a plugin that takes longer is
	// hung and is restarted rather than waited on.
	DefaultRPCTimeout = 60 * time.Second
	// MaxMessageSize bounds every protocol message both ways. The largest
	// honest one (metadata with long scope lists) is a few KiB; the bound
	// keeps a faulty plugin from making the host buffer without limit.
	// It is gRPC's own default, which go-plugin raises to 2 GiB.
	MaxMessageSize = 4 << 20
)

// ErrInvalidResponse: a plugin answered something the driver contract
// forbids (metadata without valid endpoints, a login URL on a foreign host,
// a token without an access token). Plugins are untrusted: the host checks
// every answer it acts on.
var ErrInvalidResponse = errors.New("driverplugin: invalid response from the plugin")

// TransportError means the plugin could not be reached: it crashed or was
// killed, or, when Timeout is set, it did not answer within the per-RPC
// bound. The supervisor restarts it on the next call.
type TransportError struct {
	RPC     string
	Err     error
	Timeout time.Duration
}

func (e *TransportError) Error() string {
	if e.Timeout > 0 {
		return fmt.Sprintf("driverplugin: %s: plugin did not answer within %s", e.RPC, e.Timeout)
	}
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
//
// A plugin is untrusted: the client checks every answer it returns against
// the configuration the host sent (see Metadata, StartDevice, AuthCodeURL),
// and bounds every RPC in time (ConnectOptions.RPCTimeout) and size
// (MaxMessageSize, set on the connection by the supervisor).
type Client struct {
	rpc      pb.DriverClient
	desc     provider.Description
	rpcs     []string
	minor    uint32
	clientID string // non-empty when rebound (CIMD)

	issuer            string // as configured by the host, never as the plugin says
	verificationHosts []string
	timeout           time.Duration
}

// ConnectOptions are the host's limits on one plugin.
type ConnectOptions struct {
	// RPCTimeout bounds each RPC, whatever the caller's deadline; zero
	// means DefaultRPCTimeout.
	RPCTimeout time.Duration
	// VerificationHosts are further hosts a login URL from the plugin may
	// name (config's verification_hosts), beyond the issuer's own.
	VerificationHosts []string
	// Issuer is the issuer the plugin's metadata must name when it is not
	// the configured one: a built-in driver that derives its issuer from
	// options (Okta's authorization_server_id) reports it host-side. Empty
	// means DriverConfig.Issuer.
	Issuer string
}

// Connect asks the plugin for its capabilities and configures it. The
// configured issuer anchors every later check of the plugin's answers, so
// it is required.
func Connect(ctx context.Context, rpc pb.DriverClient, cfg provider.DriverConfig, opts ConnectOptions) (*Client, error) {
	if _, err := url.Parse(cfg.Issuer); err != nil || cfg.Issuer == "" {
		return nil, fmt.Errorf("driverplugin: a plugin needs a configured issuer to check its answers against, got %q", cfg.Issuer)
	}
	c := &Client{rpc: rpc, issuer: cmp.Or(opts.Issuer, cfg.Issuer), verificationHosts: opts.VerificationHosts, timeout: opts.RPCTimeout}
	if c.timeout <= 0 {
		c.timeout = DefaultRPCTimeout
	}
	caps := &pb.CapabilitiesRequest{HostMinor: ProtocolMinor}
	pre, err := call(ctx, c, "Capabilities", rpc.Capabilities, caps)
	if err != nil {
		return nil, err
	}
	// A plugin older than minor 2 would silently drop these and then fail
	// at login (Google without its secret): refuse it now, naming why.
	if pre.GetMinor() < 2 && (cfg.ClientSecret != "" || !cfg.Endpoints.IsZero() || len(cfg.ExtraParams) > 0) {
		return nil, fmt.Errorf("driverplugin: the plugin speaks protocol minor %d, which cannot carry client_secret, endpoints or extra_params (minor 2 can); rebuild it with this mcpauth's sdk/driver", pre.GetMinor())
	}
	resp, err := call(ctx, c, "Configure", rpc.Configure, &pb.ConfigureRequest{
		Issuer: cfg.Issuer, ClientId: cfg.ClientID, Scopes: cfg.Scopes, Options: cfg.Options,
		Metadata:     toProtoMetadata(cfg.Metadata),
		ClientSecret: cfg.ClientSecret,
		Endpoints:    toProtoEndpoints(cfg.Endpoints),
		ExtraParams:  cfg.ExtraParams,
	})
	if err != nil {
		return nil, err
	}
	got, err := call(ctx, c, "Capabilities", rpc.Capabilities, caps)
	if err != nil {
		return nil, err
	}
	c.desc, c.rpcs, c.minor = fromProtoDescription(resp.GetDescription()), got.GetRpcs(), got.GetMinor()
	return c, nil
}

// call runs one RPC within the client's per-RPC bound. When the bound, not
// the caller's own deadline (which may be the earlier one), ends the call,
// the plugin is hung: that is a
// TransportError, so the supervisor kills it instead of sending the next
// call to a process that may never answer again.
func call[Req, Resp any](ctx context.Context, c *Client, rpc string,
	f func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	bound := time.Now().Add(c.timeout)
	callerDeadline, hasDeadline := ctx.Deadline()
	ours := !hasDeadline || callerDeadline.After(bound) // our bound is the one in force
	cctx, cancel := context.WithDeadline(ctx, bound)
	defer cancel()
	resp, err := f(cctx, req)
	if err != nil {
		var zero Resp
		// By the clock, not cctx.Err(): the plugin's side of the same
		// deadline may end the call a moment before our timer fires.
		if ours && ctx.Err() == nil && !time.Now().Before(bound) {
			return zero, &TransportError{RPC: rpc, Err: context.DeadlineExceeded, Timeout: c.timeout}
		}
		return zero, decode(rpc, err)
	}
	return resp, nil
}

// Minor is the plugin's protocol minor version.
func (c *Client) Minor() uint32 { return c.minor }

// Serves reports whether the plugin serves the named RPC.
func (c *Client) Serves(rpc string) bool { return slices.Contains(c.rpcs, rpc) }

func decode(rpc string, err error) error {
	if status.Code(err) == codes.ResourceExhausted {
		return fmt.Errorf("driverplugin: %s: a message over the driver protocol's %d MiB limit was refused (%s): %w",
			rpc, MaxMessageSize>>20, status.Convert(err).Message(), ErrInvalidResponse)
	}
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

// Metadata is the plugin's authorization-server metadata, refused unless
// it names the configured issuer exactly (RFC 8414 §3.3: a plugin must not
// redirect logins to another server) and its endpoints are https (or
// loopback http) URLs.
func (c *Client) Metadata(ctx context.Context) (*provider.AuthServerMetadata, error) {
	r, err := call(ctx, c, "Metadata", c.rpc.Metadata, &pb.MetadataRequest{ClientId: c.clientID})
	if err != nil {
		return nil, err
	}
	m := fromProtoMetadata(r)
	if m == nil || m.Issuer != c.issuer {
		return nil, fmt.Errorf("driverplugin: driver %s returned metadata for issuer %q, but it was configured for issuer %q: %w",
			c.desc.Name, r.GetIssuer(), c.issuer, provider.ErrIssuerMismatch)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("driverplugin: driver %s returned metadata the host refuses: %w: %w", c.desc.Name, err, ErrInvalidResponse)
	}
	return m, nil
}

// StartDevice refuses a device authorization whose verification URIs are
// not the configured issuer's (see checkLoginURL): the user is sent there.
func (c *Client) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	if !c.Serves("StartDevice") {
		return nil, c.unsupported("StartDevice")
	}
	r, err := call(ctx, c, "StartDevice", c.rpc.StartDevice, &pb.StartDeviceRequest{ClientId: c.clientID, Scopes: scopes})
	if err != nil {
		return nil, err
	}
	da := fromProtoDevice(r)
	if err := c.checkLoginURL("verification_uri", da.VerificationURI); err != nil {
		return nil, err
	}
	if da.VerificationURIComplete != "" {
		if err := c.checkLoginURL("verification_uri_complete", da.VerificationURIComplete); err != nil {
			return nil, err
		}
	}
	return da, nil
}

func (c *Client) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (*provider.Token, error) {
	if !c.Serves("PollDevice") {
		return nil, c.unsupported("PollDevice")
	}
	t, err := call(ctx, c, "PollDevice", c.rpc.PollDevice, &pb.PollDeviceRequest{ClientId: c.clientID, Authorization: toProtoDevice(da)})
	if err != nil {
		return nil, err
	}
	return c.checkToken("PollDevice", t)
}

// AuthCodeURL refuses a URL that is not the configured issuer's (see
// checkLoginURL): the user's browser is sent there.
func (c *Client) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	if !c.Serves("AuthCodeURL") {
		return "", c.unsupported("AuthCodeURL")
	}
	r, err := call(ctx, c, "AuthCodeURL", c.rpc.AuthCodeURL, &pb.AuthCodeURLRequest{ClientId: c.clientID, State: req.State,
		CodeChallenge: req.CodeChallenge, RedirectUri: req.RedirectURI, Scopes: req.Scopes})
	if err != nil {
		return "", err
	}
	if err := c.checkLoginURL("authorization URL", r.GetUrl()); err != nil {
		return "", err
	}
	return r.GetUrl(), nil
}

func (c *Client) Exchange(ctx context.Context, code, verifier, redirectURI string) (*provider.Token, error) {
	if !c.Serves("Exchange") {
		return nil, c.unsupported("Exchange")
	}
	t, err := call(ctx, c, "Exchange", c.rpc.Exchange, &pb.ExchangeRequest{ClientId: c.clientID, Code: code, Verifier: verifier, RedirectUri: redirectURI})
	if err != nil {
		return nil, err
	}
	return c.checkToken("Exchange", t)
}

func (c *Client) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	if !c.Serves("Refresh") {
		return nil, c.unsupported("Refresh")
	}
	r, err := call(ctx, c, "Refresh", c.rpc.Refresh, &pb.RefreshRequest{ClientId: c.clientID, Token: toProtoToken(t)})
	if err != nil {
		return nil, err
	}
	return c.checkToken("Refresh", r)
}

// checkToken refuses a token without an access token: it would be cached
// and presented as a login that succeeded. The error names the field, never
// the token's content.
func (c *Client) checkToken(rpc string, t *pb.Token) (*provider.Token, error) {
	if t.GetAccessToken() == "" {
		return nil, fmt.Errorf("driverplugin: driver %s: %s returned no access token: %w", c.desc.Name, rpc, ErrInvalidResponse)
	}
	return fromProtoToken(t), nil
}

// checkLoginURL is the host's rule for a URL a plugin wants shown to the
// user (a verification URI, an authorization URL): https, or http on
// loopback; and its host is the configured issuer's host, shares the
// issuer host's registrable domain (eTLD+1 from the public suffix list:
// www.google.com for accounts.google.com), or is listed in
// ConnectOptions.VerificationHosts. An IP or single-label host must match
// exactly. The SDK checks shown URLs too, but against the metadata's
// issuer, which a lying plugin controls; this check uses the issuer the
// host configured, so it is the one that holds against the plugin (RFC
// 8628 §5.4 remote phishing). For issuers whose login pages are on the
// issuer's host (GitHub) the rule is exact; one whose device page is on
// another domain (login.microsoftonline.com sends users to
// microsoft.com/devicelogin) needs verification_hosts.
func (c *Client) checkLoginURL(field, raw string) error {
	refuse := func(why string) error {
		return fmt.Errorf("driverplugin: driver %s returned a %s the host refuses: %s: %w", c.desc.Name, field, why, ErrInvalidResponse)
	}
	if err := provider.CheckEndpointURL(field, raw); err != nil {
		return refuse(err.Error())
	}
	u, _ := url.Parse(raw)
	iu, _ := url.Parse(c.issuer)
	host, issuerHost := strings.ToLower(u.Hostname()), strings.ToLower(iu.Hostname())
	if host == issuerHost || slices.ContainsFunc(c.verificationHosts, func(h string) bool { return strings.EqualFold(h, host) }) {
		return nil
	}
	if net.ParseIP(host) == nil && net.ParseIP(issuerHost) == nil {
		d, err := publicsuffix.EffectiveTLDPlusOne(host)
		id, ierr := publicsuffix.EffectiveTLDPlusOne(issuerHost)
		if err == nil && ierr == nil && d == id {
			return nil
		}
	}
	return refuse(fmt.Sprintf("its host %q is not the configured issuer's host %q nor in its registrable domain (list it in verification_hosts if it is genuine)", host, issuerHost))
}

// challengeTimeout bounds a Challenge call, which has no context in the
// provider interface: a hung plugin must not hang the API call behind it.
const challengeTimeout = 10 * time.Second

// Challenge asks the plugin whether resp is a scope challenge; any failure
// means "no" (CheckChallenge reports it).
func (c *Client) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), challengeTimeout)
	defer cancel()
	sc, ok, _ := c.CheckChallenge(ctx, resp)
	return sc, ok
}

// CheckChallenge is Challenge with a context and the error that made the
// answer "no", so a supervisor can see a plugin die during a challenge.
func (c *Client) CheckChallenge(ctx context.Context, resp provider.APIResponse) (*provider.ScopeChallenge, bool, error) {
	if !c.Serves("Challenge") {
		return nil, false, nil
	}
	r, err := call(ctx, c, "Challenge", c.rpc.Challenge, &pb.ChallengeRequest{ClientId: c.clientID,
		StatusCode: int32(resp.StatusCode), Header: toProtoHeader(resp.Header), Body: resp.Body})
	if err != nil {
		return nil, false, err
	}
	if !r.GetOk() {
		return nil, false, nil
	}
	return &provider.ScopeChallenge{Scopes: r.GetScopes(), Permissions: r.GetPermissions(), Description: r.GetDescription()}, true, nil
}

func (c *Client) Identity(ctx context.Context, t *provider.Token) (*provider.Identity, error) {
	if !c.Serves("Identity") {
		return nil, c.unsupported("Identity")
	}
	r, err := call(ctx, c, "Identity", c.rpc.Identity, &pb.IdentityRequest{ClientId: c.clientID, Token: toProtoToken(t)})
	if err != nil {
		return nil, err
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
