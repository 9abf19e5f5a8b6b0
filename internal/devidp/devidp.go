package devidp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
	"golang.org/x/text/language"
)

// Options configures a Server. The zero value is a usable configuration.
type Options struct {
	// Addr is the TCP address to listen on; default "127.0.0.1:0" (a free
	// port). It must resolve to a loopback address.
	Addr string

	// ClientID is the public native client's client_id; default
	// DefaultClientID.
	ClientID string

	// AutoApprove approves every authorization without asking: device
	// codes as soon as they are issued (the first poll gets the tokens),
	// and authorization requests without showing the login page (the
	// authorization endpoint redirects straight back to the client).
	AutoApprove bool

	// OIDCDiscoveryOnly serves no RFC 8414 document at
	// /.well-known/oauth-authorization-server, like zitadel itself: for
	// tests of discovery's OpenID Connect fallback.
	OIDCDiscoveryOnly bool

	// DeviceLifetime is the lifetime of a device_code / user_code pair;
	// default 5 * time.Minute. Short values force "expired_token". The
	// device authorization response reports it truncated to whole seconds
	// (expires_in), so a lifetime under one second is reported as 0, which
	// clients read as "no expiry"; the server enforces the exact value.
	DeviceLifetime time.Duration

	// PollInterval is the interval the server returns in the device
	// authorization response; default 1 * time.Second. The response carries
	// whole seconds, so it must be a positive multiple of time.Second (0
	// would make clients fall back to 5 s). The server does not enforce it:
	// it never answers "slow_down" by itself (see SlowDown).
	PollInterval time.Duration

	// SlowDown makes the first SlowDown device token polls (counted over
	// the server's lifetime, whichever device_code they carry) answer
	// {"error":"slow_down"}; later polls behave normally.
	SlowDown int

	// AccessTokenLifetime shortens the lifetime of access tokens; 0 keeps
	// the example storage's fixed 5 minutes, which is also the maximum (it
	// is hard-coded in the storage). The token response's expires_in and
	// the userinfo and introspection endpoints follow it. expires_in is
	// truncated to whole seconds and x/oauth2 treats 0 as "never expires",
	// so use at least 2 s. Refresh tokens always live 5 hours.
	AccessTokenLifetime time.Duration

	// Logger receives the server's own logs (requests at debug level,
	// approvals and rejected logins at info, HTTP server errors); nil
	// discards them. zitadel/oidc itself logs through slog.Default and
	// cannot be redirected (see the package documentation).
	Logger *slog.Logger
}

// Server is a running identity provider. Its exported fields are set by New
// and must not be changed.
type Server struct {
	// Issuer is the issuer URL, "http://127.0.0.1:PORT", built from the
	// listener's address.
	Issuer string

	// ClientID is the public native client: no secret
	// (token_endpoint_auth_method none), grants device_code,
	// authorization_code (PKCE required) and refresh_token; redirect URIs
	// http://<loopback host>:<any port>/callback.
	ClientID string

	// Username and Password are the test user's credentials. The user's ID,
	// and so the subject ("sub") of every token, equals Username.
	Username string
	Password string

	// Storage is the example storage the server runs on. Approve and deny
	// device authorizations with ApproveDevice and DenyDevice, not with
	// Storage's methods: those race with concurrent token polls.
	Storage *storage.Storage

	autoApprove bool
	provider    *op.Provider
	store       *opStorage
	logger      *slog.Logger
	srv         *http.Server
	served      chan struct{}

	reqMu sync.Mutex
	reqs  map[string]int

	closeOnce sync.Once
	closeErr  error
}

// New starts a server on 127.0.0.1 (or opts.Addr); the caller must Close it.
func New(opts Options) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, fmt.Errorf("devidp: %w", err)
	}
	return s, nil
}

func newServer(opts Options) (*Server, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("Options.Addr %q: listening on %s, which is not a loopback address", opts.Addr, ln.Addr())
	}

	s := &Server{
		Issuer:      "http://" + addr.String(),
		ClientID:    opts.ClientID,
		Username:    TestUsername,
		Password:    TestPassword,
		autoApprove: opts.AutoApprove,
		store:       newOPStorage(opts),
		logger:      opts.Logger,
		served:      make(chan struct{}),
		reqs:        make(map[string]int),
	}
	s.Storage = s.store.Storage

	// The key encrypts the opaque access tokens (token ID and subject); a
	// fresh one per server makes tokens of one server worthless at another.
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		ln.Close()
		return nil, err
	}
	config := &op.Config{
		CryptoKey:                key,
		CryptoKeyId:              "devidp",
		DefaultLogoutRedirectURI: loggedOutPath,
		CodeMethodS256:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     opts.DeviceLifetime,
			PollInterval: opts.PollInterval,
			UserFormPath: DevicePagePath,
			UserCode:     op.UserCodeBase20,
		},
	}
	s.provider, err = op.NewProvider(config, s.store, op.StaticIssuer(s.Issuer), op.WithAllowInsecure())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("op.NewProvider: %w", err)
	}

	s.srv = &http.Server{
		Handler:           s.handler(!opts.OIDCDiscoveryOnly),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelError),
	}
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("devidp: serve", "error", err)
		}
	}()
	return s, nil
}

func (opts *Options) setDefaults() error {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.DeviceLifetime == 0 {
		opts.DeviceLifetime = 5 * time.Minute
	}
	if opts.DeviceLifetime < 0 {
		return fmt.Errorf("Options.DeviceLifetime %v is negative", opts.DeviceLifetime)
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Second
	}
	if opts.PollInterval < time.Second || opts.PollInterval%time.Second != 0 {
		return fmt.Errorf("Options.PollInterval %v is not a positive whole number of seconds", opts.PollInterval)
	}
	if opts.SlowDown < 0 {
		return fmt.Errorf("Options.SlowDown %d is negative", opts.SlowDown)
	}
	if opts.AccessTokenLifetime < 0 || opts.AccessTokenLifetime > storageAccessTokenLifetime {
		return fmt.Errorf("Options.AccessTokenLifetime %v is outside (0, %v], the example storage's fixed lifetime", opts.AccessTokenLifetime, storageAccessTokenLifetime)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	return nil
}

// Close stops the server, waiting up to 5 seconds for requests in flight.
// It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.closeErr = errors.Join(err, s.srv.Close())
		}
		<-s.served
	})
	return s.closeErr
}

// ApproveDevice approves the device authorization with this user_code as the
// test user, like a user who signs in at the verification URI and allows it.
// It fails for an unknown, expired, denied or already approved user code.
func (s *Server) ApproveDevice(ctx context.Context, userCode string) error {
	return s.store.approveDevice(ctx, userCode, s.Username)
}

// DenyDevice denies the device authorization with this user_code; the next
// token poll answers "access_denied". It fails for an unknown or already
// approved user code.
func (s *Server) DenyDevice(ctx context.Context, userCode string) error {
	return s.store.denyDevice(ctx, userCode)
}

// Requests reports how many requests the server has received on this URL
// path (for example TokenPath() or DevicePath()), counted when each request
// arrives. It is safe for concurrent use.
func (s *Server) Requests(path string) int {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return s.reqs[path]
}

// TokenPath is the URL path of the token endpoint ("/oauth/token").
func (s *Server) TokenPath() string { return s.provider.TokenEndpoint().Relative() }

// DevicePath is the URL path of the device authorization endpoint
// ("/device_authorization"). The page where users enter the code is
// DevicePagePath.
func (s *Server) DevicePath() string { return s.provider.DeviceAuthorizationEndpoint().Relative() }

// OAuth2Config returns an x/oauth2 configuration for the server's client,
// with the authorization, token and device authorization endpoints. The
// client is public, so the endpoint's AuthStyle is AuthStyleInParams
// (client_id in the form body); with AuthStyleAutoDetect x/oauth2 would try
// HTTP Basic authentication first, which the device grant refuses, and so
// send every device poll twice.
func (s *Server) OAuth2Config(redirectURL string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: s.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       s.provider.AuthorizationEndpoint().Absolute(s.Issuer),
			TokenURL:      s.provider.TokenEndpoint().Absolute(s.Issuer),
			DeviceAuthURL: s.provider.DeviceAuthorizationEndpoint().Absolute(s.Issuer),
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURL,
		Scopes:      scopes,
	}
}
