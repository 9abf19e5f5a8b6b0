package zitadelop

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
	"golang.org/x/text/language"
)

// Options configures an OP. The zero value is a usable configuration.
type Options struct {
	// DeviceLifetime is the lifetime of a device_code / user_code pair;
	// default 5 * time.Minute. Short values force "expired_token". The
	// device authorization response reports it truncated to whole seconds
	// (expires_in), so a lifetime under one second is reported as 0, which
	// clients read as "no expiry"; the OP enforces the exact value.
	DeviceLifetime time.Duration

	// PollInterval is the interval the OP returns in the device
	// authorization response; default 1 * time.Second. The response carries
	// whole seconds, so it must be a positive multiple of time.Second (0
	// would make clients fall back to 5 s). The OP does not enforce it: it
	// never answers "slow_down" by itself (see SlowDown).
	PollInterval time.Duration

	// SlowDown makes the first SlowDown device token polls (counted over
	// the OP's lifetime, whichever device_code they carry) answer
	// {"error":"slow_down"}; later polls behave normally.
	SlowDown int

	// AccessTokenLifetime shortens the lifetime of access tokens; 0 keeps
	// the example storage's fixed 5 minutes, which is also the maximum (it
	// is hard-coded in the storage). The token response's expires_in and
	// the userinfo and introspection endpoints follow it. expires_in is
	// truncated to whole seconds and x/oauth2 treats 0 as "never expires",
	// so use at least 2 s. Refresh tokens always live 5 hours.
	AccessTokenLifetime time.Duration

	// Logger receives the OP's own logs (requests at debug level, rejected
	// logins, HTTP server errors); nil discards them. zitadel/oidc itself
	// logs through slog.Default and cannot be redirected (see the package
	// documentation).
	Logger *slog.Logger

	// Addr is the TCP address to listen on; default "127.0.0.1:0" (a free
	// port). It must resolve to a loopback address.
	Addr string
}

// OP is a running OpenID Provider. Its exported fields are set by New/Start
// and must not be changed.
type OP struct {
	// Issuer is the issuer URL, "http://127.0.0.1:PORT", built from the
	// listener's address. Discovery is at Issuer + "/.well-known/openid-configuration".
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

	// Storage is the example storage the OP runs on. Approve and deny
	// device authorizations with ApproveDevice and DenyDevice, not with
	// Storage's methods: those race with concurrent token polls.
	Storage *storage.Storage

	provider *op.Provider
	store    *opStorage
	logger   *slog.Logger
	srv      *http.Server
	served   chan struct{}

	reqMu sync.Mutex
	reqs  map[string]int

	closeOnce sync.Once
	closeErr  error
}

// Start starts an OP on 127.0.0.1 (or opts.Addr) and closes it when the test
// ends. It fails the test if the OP cannot start.
func Start(t testing.TB, opts Options) *OP {
	t.Helper()
	o, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := o.Close(); err != nil {
			t.Errorf("zitadelop: close: %v", err)
		}
	})
	return o
}

// New starts an OP; the caller must Close it. Start is the variant for tests.
func New(opts Options) (*OP, error) {
	o, err := newOP(opts)
	if err != nil {
		return nil, fmt.Errorf("zitadelop: %w", err)
	}
	return o, nil
}

func newOP(opts Options) (*OP, error) {
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

	o := &OP{
		Issuer:   "http://" + addr.String(),
		ClientID: clientID,
		Username: testUsername,
		Password: testPassword,
		store:    newOPStorage(opts),
		logger:   opts.Logger,
		served:   make(chan struct{}),
		reqs:     make(map[string]int),
	}
	o.Storage = o.store.Storage

	// The key encrypts the opaque access tokens (token ID and subject); a
	// fresh one per OP makes tokens of one OP worthless at another.
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		ln.Close()
		return nil, err
	}
	config := &op.Config{
		CryptoKey:                key,
		CryptoKeyId:              "zitadelop",
		DefaultLogoutRedirectURI: loggedOutPath,
		CodeMethodS256:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     opts.DeviceLifetime,
			PollInterval: opts.PollInterval,
			UserFormPath: devicePath,
			UserCode:     op.UserCodeBase20,
		},
	}
	o.provider, err = op.NewProvider(config, o.store, op.StaticIssuer(o.Issuer), op.WithAllowInsecure())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("op.NewProvider: %w", err)
	}

	o.srv = &http.Server{
		Handler:           o.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(o.logger.Handler(), slog.LevelError),
	}
	go func() {
		defer close(o.served)
		if err := o.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.logger.Error("zitadelop: serve", "error", err)
		}
	}()
	return o, nil
}

func (opts *Options) setDefaults() error {
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
func (o *OP) Close() error {
	o.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := o.srv.Shutdown(ctx); err != nil {
			o.closeErr = errors.Join(err, o.srv.Close())
		}
		<-o.served
	})
	return o.closeErr
}

// ApproveDevice approves the device authorization with this user_code as the
// test user, like a user who signs in at the verification URI and allows it.
// It fails for an unknown, expired, denied or already approved user code.
func (o *OP) ApproveDevice(ctx context.Context, userCode string) error {
	return o.store.approveDevice(ctx, userCode, o.Username)
}

// DenyDevice denies the device authorization with this user_code; the next
// token poll answers "access_denied". It fails for an unknown or already
// approved user code.
func (o *OP) DenyDevice(ctx context.Context, userCode string) error {
	return o.store.denyDevice(ctx, userCode)
}

// Requests reports how many requests the OP has received on this URL path
// (for example TokenPath() or DevicePath()), counted when each request
// arrives. It is safe for concurrent use.
func (o *OP) Requests(path string) int {
	o.reqMu.Lock()
	defer o.reqMu.Unlock()
	return o.reqs[path]
}

// TokenPath is the URL path of the token endpoint ("/oauth/token").
func (o *OP) TokenPath() string { return o.provider.TokenEndpoint().Relative() }

// DevicePath is the URL path of the device authorization endpoint
// ("/device_authorization").
func (o *OP) DevicePath() string { return o.provider.DeviceAuthorizationEndpoint().Relative() }

// OAuth2Config returns an x/oauth2 configuration for the OP's client, with
// the authorization, token and device authorization endpoints. The client is
// public, so the endpoint's AuthStyle is AuthStyleInParams (client_id in the
// form body); with AuthStyleAutoDetect x/oauth2 would try HTTP Basic
// authentication first, which the device grant refuses, and so send every
// device poll twice.
func (o *OP) OAuth2Config(redirectURL string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: o.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       o.provider.AuthorizationEndpoint().Absolute(o.Issuer),
			TokenURL:      o.provider.TokenEndpoint().Absolute(o.Issuer),
			DeviceAuthURL: o.provider.DeviceAuthorizationEndpoint().Absolute(o.Issuer),
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURL,
		Scopes:      scopes,
	}
}
