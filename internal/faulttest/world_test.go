package faulttest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/internal/faulttest"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

func TestMain(m *testing.M) {
	// zitadel/oidc logs every OAuth error answer through slog.Default.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// Paths of the zitadel OP (internal/devidp).
const (
	oidcPath    = "/.well-known/openid-configuration"
	rfc8414Path = "/.well-known/oauth-authorization-server"
)

var scopes = []string{"openid", "offline_access"}

// simClock is a simulated clock: real time plus the simulated sleeps plus a
// skew. Sleep records the wait and returns at once, so a device login that
// would wait minutes runs in milliseconds, and its timing can be asserted.
type simClock struct {
	mu     sync.Mutex
	offset time.Duration // sum of sleeps
	skew   time.Duration
	sleeps []time.Duration
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset + c.skew)
}

func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.offset += d
	return nil
}

// Advance moves the clock forward without recording a sleep.
func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func (c *simClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// world is one row's setup: a real OP, the proxy in front of it, and the
// generic oidc driver discovering through the proxy.
type world struct {
	t     *testing.T
	op    *zitadelop.OP
	px    *faulttest.Proxy
	clk   *simClock
	hc    *http.Client
	disc  *discovery.Discoverer
	drv   *oidc.Driver
	store *tokenstore.Store
	key   tokenstore.Key

	// approveAfter is the number of pending polls before the user approves;
	// 0 approves when the code is shown.
	approveAfter int
	shown        *provider.DeviceAuthorization
}

type worldOptions struct {
	op            zitadelop.Options
	clientTimeout time.Duration // driver and discovery requests; default 5 s
	skew          time.Duration // of every injected clock
}

func newWorld(t *testing.T, o worldOptions) *world {
	t.Helper()
	if o.clientTimeout == 0 {
		o.clientTimeout = 5 * time.Second
	}
	w := &world{t: t, op: zitadelop.Start(t, o.op), clk: &simClock{skew: o.skew}}
	w.px = faulttest.Start(t, w.op.Issuer)
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}
	w.hc = &http.Client{Transport: tr, Timeout: o.clientTimeout}
	t.Cleanup(tr.CloseIdleConnections)
	w.disc = &discovery.Discoverer{HTTPClient: w.hc, RequestTimeout: o.clientTimeout}
	w.drv = w.newDriver(w.disc)
	w.store = &tokenstore.Store{Now: w.clk.Now}
	w.key = tokenstore.Key{Issuer: w.px.URL, ClientID: w.op.ClientID, Subject: w.op.Username}
	return w
}

// newDriver is a generic driver for the proxy's issuer using disc.
func (w *world) newDriver(disc *discovery.Discoverer) *oidc.Driver {
	w.t.Helper()
	d, err := oidc.New(oidc.Config{
		Issuer:     w.px.URL,
		ClientID:   w.op.ClientID,
		Scopes:     scopes,
		HTTPClient: w.hc,
		Discover: func(ctx context.Context, issuer string) (*provider.AuthServerMetadata, error) {
			return disc.AuthServer(ctx, issuer)
		},
		Now: w.clk.Now,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// login runs a device login through the proxy with the simulated clock.
func (w *world) login(ctx context.Context) (*provider.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	l := login.Login{
		Preference: login.PreferDevice,
		Env:        &login.Environment{},
		Logger:     slog.New(slog.DiscardHandler),
		Device: login.DevicePoller{
			Sleep: w.clk.Sleep,
			Now:   w.clk.Now,
			OnProgress: func(p login.DeviceProgress) {
				if w.approveAfter > 0 && p.Polls == w.approveAfter {
					w.approve(ctx)
				}
			},
		},
		ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error {
			w.shown = da
			if w.approveAfter == 0 {
				w.approve(ctx)
			}
			return nil
		},
	}
	return l.Run(ctx, w.drv, scopes)
}

func (w *world) approve(ctx context.Context) {
	if err := w.op.ApproveDevice(ctx, w.shown.UserCode); err != nil {
		w.t.Errorf("approving the device code: %v", err)
	}
}

// loggedIn logs in without faults and stores the token, for refresh rows.
func (w *world) loggedIn(ctx context.Context) *provider.Token {
	w.t.Helper()
	tok, err := w.login(ctx)
	if err != nil {
		w.t.Fatalf("login without faults: %v", err)
	}
	if tok.RefreshToken == "" {
		w.t.Fatal("login gave no refresh token")
	}
	w.store.Put(w.key, tok)
	return tok
}

// tokenPolls counts device token requests at the proxy (the token path is
// shared with refresh: rows use one or the other).
func (w *world) tokenRequests() int { return w.px.Requests(w.op.TokenPath()) }

// checkNoMarker fails when err quotes a body the proxy made up.
func checkNoMarker(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), faulttest.BodyMarker) {
		t.Errorf("error quotes the response body: %v", err)
	}
}

func seconds(ds []time.Duration) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%g", d.Seconds())
	}
	return b.String()
}

// Features that may land in parallel (security branch, b6a87b8 and
// 6887e74). Rows that need them are skipped while they are missing; the
// probes call the real code, so the rows run as soon as it lands.
var (
	transientPollOnce, transientRefreshOnce sync.Once
	hasTransientPoll, hasTransientRefresh   bool
)

type flakyDevice struct{ calls int }

func (f *flakyDevice) StartDevice(context.Context, []string) (*provider.DeviceAuthorization, error) {
	return nil, errors.New("unused")
}

func (f *flakyDevice) PollDevice(context.Context, *provider.DeviceAuthorization) (*provider.Token, error) {
	if f.calls++; f.calls == 1 {
		return nil, &provider.OAuthError{Endpoint: "token", Code: "invalid_response", StatusCode: http.StatusBadGateway}
	}
	return &provider.Token{AccessToken: "probe"}, nil
}

type flakyRefresher struct{}

func (flakyRefresher) Refresh(context.Context, *provider.Token) (*provider.Token, error) {
	return nil, &provider.OAuthError{Endpoint: "token", Code: "invalid_response", StatusCode: http.StatusBadGateway}
}

func needs(t *testing.T, feature string) {
	t.Helper()
	switch feature {
	case "":
	case "transient-poll":
		transientPollOnce.Do(func() {
			p := login.DevicePoller{Sleep: func(context.Context, time.Duration) error { return nil }}
			_, err := p.Poll(context.Background(), &flakyDevice{}, &provider.DeviceAuthorization{Interval: time.Second})
			hasTransientPoll = err == nil
		})
		if !hasTransientPoll {
			t.Skip("pending: login.DevicePoller does not retry transient failures in this tree (lands with the security branch, b6a87b8)")
		}
	case "transient-refresh":
		transientRefreshOnce.Do(func() {
			s := &tokenstore.Store{}
			k := tokenstore.Key{Issuer: "probe"}
			s.Put(k, &provider.Token{AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(-time.Hour)})
			_, _ = s.Token(context.Background(), k, flakyRefresher{})
			_, hasTransientRefresh = s.Peek(k)
		})
		if !hasTransientRefresh {
			t.Skip("pending: tokenstore drops the token on a transient refresh failure in this tree (lands with the security branch, 6887e74)")
		}
	default:
		t.Fatalf("unknown feature %q", feature)
	}
}
