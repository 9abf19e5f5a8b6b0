package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// Mode says when users log in.
type Mode int

const (
	// Lazy lists every tool; the first protected call without a token starts
	// the login, shows it to the user, waits for it and then runs.
	Lazy Mode = iota
	// Explicit lists only auth_login and auth_status until a login; the
	// protected tools of a provider appear (with
	// notifications/tools/list_changed) once it has a token.
	Explicit
)

func (m Mode) String() string {
	switch m {
	case Lazy:
		return "lazy"
	case Explicit:
		return "explicit"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode accepts "", "lazy" and "explicit".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "lazy":
		return Lazy, nil
	case "explicit":
		return Explicit, nil
	}
	return 0, fmt.Errorf("mcpauth: mode %q: want lazy or explicit", s)
}

// Provider is one authorization server the server's tools need tokens from.
type Provider struct {
	// Name identifies the provider in Need, Token and HTTPClient, and in the
	// auth_* tools; for example "github".
	Name string
	// Driver talks to the authorization server (drivers/oidc, an issuer
	// driver, or a plugin client).
	Driver provider.Driver
	// Scopes are requested at every login of this provider, in addition to
	// those the tools Need. Empty means the driver's default scopes.
	Scopes []string
	// Grant is the interactive grant: login.PreferAuto (the default)
	// picks PKCE with a loopback redirect when a browser on this machine is
	// likely reachable and the device grant otherwise, for each login.
	Grant login.GrantPreference
	// LoopbackPort is the port of the PKCE redirect listener; 0 picks a free one.
	LoopbackPort int
	// VerificationHosts lists hosts, besides the issuer's host and its
	// registrable domain, that may appear in a device verification URI or
	// authorization URL shown to the user (Microsoft's microsoft.com/devicelogin
	// for login.microsoftonline.com, say). Anything else is refused.
	VerificationHosts []string
	// DisplayName names the provider to users; default Name.
	DisplayName string
	// ClientIDMetadataDocument is this provider's Client ID Metadata
	// Document URL, used as client_id where the server supports it; a
	// client's capability wins, Options.ClientIDMetadataDocument is the
	// fallback.
	ClientIDMetadataDocument string
}

// EnvClientIDMetadataDocument is the environment variable through which an
// MCP host may pass its Client ID Metadata Document URL (see Options).
const EnvClientIDMetadataDocument = "MCP_OAUTH_CLIENT_ID"

// Defaults.
const (
	// DefaultWaitTimeout bounds how long one tool call waits for a login.
	DefaultWaitTimeout = 5 * time.Minute
	// maxFlowLifetime bounds a login running in the background.
	maxFlowLifetime = 30 * time.Minute
)

// Options configures New.
type Options struct {
	// Providers are the authorization servers; names must be unique.
	Providers []Provider
	// Mode is Lazy (default) or Explicit.
	Mode Mode
	// ServerName names this server in messages to the user; default "this server".
	ServerName string
	// WaitTimeout bounds how long a tool call waits for the user to finish a
	// login before it answers "still waiting, call again"; the login goes
	// on in the background. Default DefaultWaitTimeout. Clients with a
	// shorter request timeout should reset it on progress notifications.
	WaitTimeout time.Duration
	// ClientIDMetadataDocument is the host's Client ID Metadata Document URL
	// (an https URL with a path), used as client_id where the authorization
	// server advertises client_id_metadata_document_supported. Empty means
	// the MCP_OAUTH_CLIENT_ID environment variable. A client may also declare
	// it per request (see CapabilityClientIDMetadataDocument), which wins.
	ClientIDMetadataDocument string
	// HTTPClient is the base client for HTTPClient: its Transport sends the
	// API requests. Nil means http.DefaultTransport.
	HTTPClient *http.Client
	// Logger receives mcpauth's logs; nil means a text logger on stderr at
	// level Info. Nothing is ever logged to stdout, and no token is logged.
	Logger *slog.Logger
	// Env describes the machine for grant selection; nil means the real one.
	Env *login.Environment
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Auth protects tools of one MCP server. Create it with New.
type Auth struct {
	opts      Options
	logger    *slog.Logger
	store     tokenstore.Store
	providers map[string]*providerState
	order     []string // provider names in Options order

	mu       sync.Mutex
	srv      *server.MCPServer
	flows    map[string]*flow // by ID, for retries; finished ones are pruned
	tools    []protectedTool  // explicit mode: every protected tool
	out      *outWriter       // set by ServeStdio
	attached bool

	syncMu            sync.Mutex      // explicit mode: serialises tool list changes
	listed            map[string]bool // tools added by syncTools
	listChangedTarget uint64          // list_changed notifications to wait for

	cimdMu     sync.Mutex
	cimdLogged map[string]bool

	// closeRegistry kills driver plugins (NewFromConfig).
	closeRegistry func()
}

// Errors.
var (
	// ErrDeclined: the user declined or cancelled the login; the tool did not run.
	ErrDeclined = errors.New("mcpauth: the user declined the login")
	// ErrStaleFlow: a retry named a login that is no longer current.
	ErrStaleFlow = errors.New("mcpauth: this login request is no longer current")
	// ErrStillWaiting: the login has not finished within the wait bound; it
	// goes on in the background.
	ErrStillWaiting = errors.New("mcpauth: still waiting for the login to finish")
	// ErrNotProtected: Token or HTTPClient was used outside a protected tool handler.
	ErrNotProtected = errors.New("mcpauth: not called from a protected tool handler")
	// ErrUnknownProvider: a provider name that Options did not configure.
	ErrUnknownProvider = errors.New("mcpauth: unknown provider")
	// ErrStepUpRefused: the API still refused a request after the login
	// with the scopes it asked for.
	ErrStepUpRefused = errors.New("mcpauth: the API still refused the request after authorizing the scopes it asked for")
)

// New checks the options and returns an Auth. It makes no request: drivers
// discover their metadata on first use. ctx is unused for now and reserved
// for drivers that need start-up I/O.
func New(ctx context.Context, opts Options) (*Auth, error) {
	if len(opts.Providers) == 0 {
		return nil, errors.New("mcpauth: Options.Providers is empty")
	}
	if opts.Mode != Lazy && opts.Mode != Explicit {
		return nil, fmt.Errorf("mcpauth: unknown mode %v", opts.Mode)
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = DefaultWaitTimeout
	}
	if opts.ServerName == "" {
		opts.ServerName = "this server"
	}
	if opts.ClientIDMetadataDocument == "" {
		opts.ClientIDMetadataDocument = os.Getenv(EnvClientIDMetadataDocument)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	a := &Auth{
		opts:       opts,
		logger:     logger,
		providers:  make(map[string]*providerState, len(opts.Providers)),
		flows:      make(map[string]*flow),
		listed:     make(map[string]bool),
		cimdLogged: make(map[string]bool),
	}
	a.store.Now = opts.Now
	for _, p := range opts.Providers {
		switch {
		case p.Name == "":
			return nil, errors.New("mcpauth: a provider has no Name")
		case p.Driver == nil:
			return nil, fmt.Errorf("mcpauth: provider %q has no Driver", p.Name)
		case a.providers[p.Name] != nil:
			return nil, fmt.Errorf("mcpauth: provider %q configured twice", p.Name)
		}
		if _, err := login.ParseGrantPreference(string(p.Grant)); err != nil {
			return nil, fmt.Errorf("mcpauth: provider %q: %w", p.Name, err)
		}
		if p.Grant == "" {
			p.Grant = login.PreferAuto
		}
		if p.DisplayName == "" {
			p.DisplayName = p.Name
		}
		p.Scopes = slices.Clone(p.Scopes)
		a.providers[p.Name] = &providerState{a: a, cfg: p, rebound: map[string]provider.Driver{}}
		a.order = append(a.order, p.Name)
	}
	_ = ctx
	return a, nil
}

// Requirement is what a protected tool needs: a token of one provider with
// some scopes. Build it with Need.
type Requirement struct {
	Provider string
	Scopes   []string
}

// Need says a tool needs a token of the named provider carrying scopes
// (in addition to the provider's configured Scopes).
func Need(providerName string, scopes ...string) Requirement {
	return Requirement{Provider: providerName, Scopes: scopes}
}

func (a *Auth) provider(name string) (*providerState, error) {
	p := a.providers[name]
	if p == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownProvider, name)
	}
	return p, nil
}

// attach binds a to s, once: mcpauth serves one MCP server per Auth. In
// explicit mode it adds the auth tools.
func (a *Auth) attach(s *server.MCPServer) {
	a.mu.Lock()
	if a.srv != nil && a.srv != s {
		a.mu.Unlock()
		panic("mcpauth: one Auth protects one *server.MCPServer")
	}
	a.srv = s
	first := !a.attached
	a.attached = true
	a.mu.Unlock()
	if first && a.opts.Mode == Explicit {
		a.addAuthTools(s)
	}
}

// Providers returns the configured providers, in order (with their
// drivers; a tool that needs a provider's metadata, say its userinfo
// endpoint, asks the driver).
func (a *Auth) Providers() []Provider {
	out := make([]Provider, 0, len(a.order))
	for _, n := range a.order {
		out = append(out, a.providers[n].cfg)
	}
	return out
}

// Close stops logins running in the background. ServeStdio calls it when
// the client goes away.
func (a *Auth) Close() {
	a.mu.Lock()
	flows := make([]*flow, 0, len(a.flows))
	for _, f := range a.flows {
		flows = append(flows, f)
	}
	a.mu.Unlock()
	for _, f := range flows {
		f.abort(context.Canceled)
	}
	if a.closeRegistry != nil {
		a.closeRegistry()
	}
}
