package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
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

// EnvClientIDMetadataDocument is the environment variable through which an
// MCP host may pass its Client ID Metadata Document URL (see Options).
const EnvClientIDMetadataDocument = "MCP_OAUTH_CLIENT_ID"

// Defaults.
const (
	// DefaultWaitTimeout bounds how long one tool call waits for a login.
	DefaultWaitTimeout = 5 * time.Minute
	// DefaultQuietWait bounds the wait of a call that sent no progressToken:
	// nothing can keep its request alive, and the TypeScript SDK's default
	// request timeout is 60 s, so it answers "still waiting" well before.
	DefaultQuietWait = 40 * time.Second
	// maxFlowLifetime bounds a login running in the background.
	maxFlowLifetime = 30 * time.Minute
)

// Options configures New.
type Options struct {
	// Providers are the server author's defaults: the providers the tools
	// need, e.g. GitHub with the app's client ID and scopes. The user's
	// config file and MCPAUTH_* environment variables override them field
	// by field (a user can change just client_id) and may add providers.
	Providers []config.Provider
	// ConfigFile is the user's config file, typically a --config flag's
	// value; "" means $MCPAUTH_CONFIG, then os.UserConfigDir()/mcpauth/config.yaml
	// if it exists. Without a file, the defaults and the environment apply.
	ConfigFile string
	// Drivers is the driver catalogue providers resolve against; nil means
	// drivers.Builtin. Add a registration to use a driver of your own in process.
	Drivers []provider.Registration
	// Environ is the environment the MCPAUTH_* overrides are read from; nil
	// means os.Environ().
	Environ []string
	// Mode is Lazy (default) or Explicit. A mode set in the user's config
	// file or MCPAUTH_MODE wins; New logs that it did.
	Mode Mode
	// ServerName names this server in messages to the user; default "this server".
	ServerName string
	// WaitTimeout bounds how long a tool call waits for the user to finish a
	// login before it answers "still waiting, call again"; the login goes
	// on in the background. Default DefaultWaitTimeout. A login_timeout set
	// in the user's config file or MCPAUTH_LOGIN_TIMEOUT wins; New logs it.
	WaitTimeout time.Duration
	// QuietWait bounds the wait of a call without a progressToken, which no
	// progress notification can keep alive: it answers "still waiting, call
	// again" before a typical client request timeout, and the login goes on
	// in the background. Default DefaultQuietWait; at most WaitTimeout.
	QuietWait time.Duration
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
	// Env describes the machine for grant selection and for opening a
	// browser; nil means the real one.
	Env *login.Environment
	// NoBrowser stops mcpauth from opening the user's browser itself (the
	// user's open_browser setting, in the config file or
	// MCPAUTH_OPEN_BROWSER, wins). By
	// default, a browser login (PKCE) started by a client that cannot show a
	// link (no URL elicitation) opens the authorization page in the desktop
	// browser when one is likely (not over SSH, not in a container), as well
	// as putting the link in the tool result.
	NoBrowser bool
	// Browser opens a URL in the user's browser; nil means the platform's
	// opener (xdg-open, open, rundll32).
	Browser func(ctx context.Context, url string) error
	// HideAuthTools, in lazy mode, leaves auth_status and auth_logout out of
	// the tool list (explicit mode always lists auth_login and auth_status).
	HideAuthTools bool
	// FilterToolsByScope hides, once a provider has a token, the protected
	// tools that need scopes the token was not granted, and lists them again
	// (notifications/tools/list_changed) when a step-up or a new login grants
	// them or a logout takes the token away. Lazy mode then also lists
	// auth_login, through which the missing scopes can be asked for.
	FilterToolsByScope bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Auth protects tools of one MCP server. Create it with New.
type Auth struct {
	opts      Options
	logger    *slog.Logger
	stores    map[string]*tokenstore.Store // by config.Store* kind
	providers map[string]*providerState
	order     []string // provider names in Options order

	mu    sync.Mutex
	list  ToolList         // the adapter's tool list (Bind)
	flows map[string]*flow // by ID, for retries; finished ones are pruned
	tools []protectedTool  // every protected tool (Protected)
	out   *outWriter       // set by Stdio

	served atomic.Bool // a client called a tool: list changes are notified

	syncMu            sync.Mutex      // explicit mode: serialises tool list changes
	listed            map[string]bool // tools added by syncTools
	listChangedTarget uint64          // list_changed notifications to wait for

	cimdMu     sync.Mutex
	cimdLogged map[string]bool

	// closeRegistry kills driver plugins.
	closeRegistry func()

	setupErrs []error // guarded by mu; see setupError
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
	// ErrUnknownProvider: a tool needs a provider that neither the server's
	// defaults nor the user's configuration declare.
	ErrUnknownProvider = errors.New("mcpauth: unknown provider")
	// ErrNoProviders: no provider is configured anywhere (server defaults,
	// config file, MCPAUTH_PROVIDERS).
	ErrNoProviders = config.ErrNoProviders
	// ErrOtherUser: a login was approved as another user than the one the
	// provider is logged in as; the new token was not used.
	ErrOtherUser = errors.New("mcpauth: the login returned another user")
	// ErrNotAnAPI: a request went to a URL that is not one of the
	// provider's API origins; no token was sent.
	ErrNotAnAPI = errors.New("mcpauth: not one of the provider's API origins")
	// ErrStepUpRefused: the API still refused a request after the login
	// with the scopes it asked for.
	ErrStepUpRefused = errors.New("mcpauth: the API still refused the request after authorizing the scopes it asked for")
)

// New loads the user's configuration over the author's defaults
// (Options.Providers), resolves each provider to a driver and returns an
// Auth. It starts no plugin and makes no request to an issuer: drivers
// discover their metadata at the first login. It opens the token stores the
// providers' store settings name; a keychain that does not answer fails New
// with ErrStoreUnavailable (naming store: file as the way out). With no provider anywhere it returns an
// error wrapping ErrNoProviders that names every place it looked.
func New(ctx context.Context, opts Options) (*Auth, error) {
	if opts.Mode != Lazy && opts.Mode != Explicit {
		return nil, fmt.Errorf("mcpauth: unknown mode %v", opts.Mode)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if opts.Drivers == nil {
		opts.Drivers = drivers.Builtin
	}
	if opts.Environ == nil {
		opts.Environ = os.Environ()
	}
	f, err := loadConfig(opts)
	if err != nil {
		return nil, err
	}
	if f.IsSet("mode") {
		m, err := ParseMode(f.Mode)
		if err != nil {
			return nil, err
		}
		if m != opts.Mode {
			logger.Info("mcpauth: the user's configuration sets the mode", "mode", m, "server_default", opts.Mode)
		}
		opts.Mode = m
	}
	if f.IsSet("login_timeout") {
		if opts.WaitTimeout > 0 && f.LoginTimeout != opts.WaitTimeout {
			logger.Info("mcpauth: the user's configuration sets the login wait", "login_timeout", f.LoginTimeout, "server_default", opts.WaitTimeout)
		}
		opts.WaitTimeout = f.LoginTimeout
	}
	if f.IsSet("open_browser") && f.OpenBrowser == opts.NoBrowser {
		logger.Info("mcpauth: the user's configuration sets whether to open the browser", "open_browser", f.OpenBrowser)
		opts.NoBrowser = !f.OpenBrowser
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = DefaultWaitTimeout
	}
	if opts.QuietWait <= 0 {
		opts.QuietWait = DefaultQuietWait
	}
	opts.QuietWait = min(opts.QuietWait, opts.WaitTimeout)
	if opts.ServerName == "" {
		opts.ServerName = "this server"
	}
	if opts.ClientIDMetadataDocument == "" {
		opts.ClientIDMetadataDocument = os.Getenv(EnvClientIDMetadataDocument)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var kinds []string
	for _, p := range f.Providers {
		kinds = append(kinds, p.Store)
	}
	stores, err := openStores(ctx, kinds, opts.Now, logger)
	if err != nil {
		return nil, err
	}
	reg, err := registry.Open(f, registry.Options{Drivers: opts.Drivers, Logger: logger})
	if err != nil {
		return nil, err
	}
	a := &Auth{
		opts:          opts,
		logger:        logger,
		providers:     make(map[string]*providerState, len(reg.Providers())),
		stores:        stores,
		flows:         make(map[string]*flow),
		listed:        make(map[string]bool),
		cimdLogged:    make(map[string]bool),
		closeRegistry: reg.Close,
	}
	for _, p := range reg.Providers() {
		if p.DisplayName == "" {
			p.DisplayName = p.Name
		}
		st := stores[p.Store]
		if st == nil {
			st = stores[config.StoreMemory]
		}
		a.providers[p.Name] = &providerState{a: a, cfg: p, store: st, rebound: map[string]provider.Driver{}}
		a.order = append(a.order, p.Name)
	}
	return a, nil
}

// Requirement is what a protected tool needs: a token of one provider with
// some scopes. Build it with Need.
type Requirement struct {
	Provider string
	Scopes   []string

	addAccount bool // auth_login account "add": log in another account
}

// Need says a tool needs a token of the named provider carrying scopes
// (in addition to the provider's configured Scopes).
func Need(providerName string, scopes ...string) Requirement {
	return Requirement{Provider: providerName, Scopes: scopes}
}

func (a *Auth) provider(name string) (*providerState, error) {
	p := a.providers[name]
	if p == nil {
		return nil, a.unknownProvider(name)
	}
	return p, nil
}

// unknownProvider says which providers exist: a tool naming another one is
// a mismatch between the server's code and the user's configuration.
func (a *Auth) unknownProvider(name string) error {
	return fmt.Errorf("%w %q (configured: %s)", ErrUnknownProvider, name, strings.Join(a.order, ", "))
}

// setupError records a mistake in how the server uses mcpauth (a tool
// needing a provider nobody configured, say). The adapters refuse to serve
// while there is one, listing them all: a start-up error, never a panic.
func (a *Auth) setupError(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.setupErrs = append(a.setupErrs, err)
}

// Err reports the set-up errors recorded so far (joined), or nil. The
// adapters' ServeStdio and Run check it before serving; a server on another
// transport should too.
func (a *Auth) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return errors.Join(a.setupErrs...)
}

// Providers returns the effective providers, in order: the description
// after the user's configuration was merged over the defaults, and the
// driver (a tool that needs a provider's metadata, say its userinfo
// endpoint, asks the driver).
func (a *Auth) Providers() []*registry.Provider {
	out := make([]*registry.Provider, 0, len(a.order))
	for _, n := range a.order {
		out = append(out, a.providers[n].cfg)
	}
	return out
}

// Close stops logins running in the background. The adapters' ServeStdio
// and Run call it when the client goes away.
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
