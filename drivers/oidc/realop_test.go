package oidc_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/internal/optest/nodeop"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// realOP is one of the real authorization servers the driver is tested
// against, behind the few operations the tests need.
type realOP struct {
	issuer, clientID   string
	scopes             []string
	approve, deny      func(ctx context.Context, userCode string) error
	browse             func(ctx context.Context, authURL string) error
	tokenReqs, devReqs func(t *testing.T) int
	rotates            bool // refresh-token rotation
}

type opOptions struct {
	deviceLifetime time.Duration
	slowDown       int
	issuerPath     string
}

func startZitadel(t *testing.T, o opOptions) *realOP {
	op := zitadelop.Start(t, zitadelop.Options{DeviceLifetime: o.deviceLifetime, SlowDown: o.slowDown})
	return &realOP{
		issuer: op.Issuer, clientID: op.ClientID,
		scopes:  []string{"openid", "profile", "offline_access"},
		approve: op.ApproveDevice, deny: op.DenyDevice, browse: op.Browse,
		tokenReqs: func(*testing.T) int { return op.Requests(op.TokenPath()) },
		devReqs:   func(*testing.T) int { return op.Requests(op.DevicePath()) },
	}
}

func startNode(t *testing.T, o opOptions) *realOP {
	op := nodeop.Start(t, nodeop.Options{DeviceCodeTTL: o.deviceLifetime, IssuerPath: o.issuerPath})
	count := func(path string) func(t *testing.T) int {
		return func(t *testing.T) int {
			n, err := op.Requests(strings.TrimPrefix(op.Issuer, op.BaseURL) + path)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	return &realOP{
		issuer: op.Issuer, clientID: op.ClientID,
		scopes:  []string{"openid", "profile", "offline_access"},
		approve: op.ApproveDevice, deny: op.DenyDevice, browse: op.Browse,
		tokenReqs: count("/token"), devReqs: count("/device/auth"),
		rotates: true,
	}
}

var servers = []struct {
	name  string
	start func(*testing.T, opOptions) *realOP
}{
	{"zitadel", startZitadel},
	{"oidc-provider", startNode},
}

// newDriver discovers the OP's metadata the way hosts do and builds the driver.
func newDriver(t *testing.T, op *realOP) provider.Driver {
	t.Helper()
	var disc discovery.Discoverer
	d, err := oidc.New(oidc.Config{
		Issuer:   op.issuer,
		ClientID: op.clientID,
		Scopes:   op.scopes,
		Discover: func(ctx context.Context, iss string) (*provider.AuthServerMetadata, error) {
			return disc.AuthServer(ctx, iss)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// testContext allows 60 s, not logintest.Context's 30: these tests start
// real servers and wait out device-code expiry in wall-clock time.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestDeviceLoginApprovedAfterNIntervals(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			op := s.start(t, opOptions{})
			d := newDriver(t, op)
			ctx := testContext(t)
			const n = 3
			da, err := d.(provider.DeviceAuthorizer).StartDevice(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(da.VerificationURI, op.issuer) || da.UserCode == "" {
				t.Fatalf("device authorization = %v", da)
			}
			tokBefore, devBefore := op.tokenReqs(t), op.devReqs(t)
			sleep := &logintest.ShortSleep{}
			p := &login.DevicePoller{Sleep: sleep.Sleep, OnProgress: func(dp login.DeviceProgress) {
				if dp.Polls == n {
					if err := op.approve(ctx, da.UserCode); err != nil {
						t.Errorf("approve: %v", err)
					}
				}
			}}
			tok, err := p.Poll(ctx, d.(provider.DeviceAuthorizer), da)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.Expiry.IsZero() || !tok.HasScopes([]string{"openid"}) {
				t.Fatalf("token = %v", tok)
			}
			if got := op.tokenReqs(t) - tokBefore; got != n+1 {
				t.Errorf("token requests = %d, want N+1 = %d", got, n+1)
			}
			if got := op.devReqs(t) - devBefore; got != 0 {
				t.Errorf("extra device requests during polling: %d", got)
			}
			if got := op.devReqs(t); got != 1 {
				t.Errorf("device authorization requests = %d, want 1", got)
			}
			if got := sleep.Waited(); len(got) != n+1 {
				t.Errorf("intervals waited = %v, want %d", got, n+1)
			}
			t.Logf("%s: approved after %d intervals: 1 device request + %d token requests", s.name, n, op.tokenReqs(t)-tokBefore)
			id, err := d.(provider.Identifier).Identity(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject == "" {
				t.Fatalf("identity = %+v", id)
			}
		})
	}
}

func TestDeviceLoginDenied(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			op := s.start(t, opOptions{})
			d := newDriver(t, op)
			ctx := testContext(t)
			login := &login.Login{
				Preference: login.PreferDevice,
				Device:     login.DevicePoller{Sleep: (&logintest.ShortSleep{}).Sleep},
				ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error { return op.deny(ctx, da.UserCode) },
			}
			_, err := login.Run(ctx, d, nil)
			if !errors.Is(err, provider.ErrAccessDenied) {
				t.Fatalf("err = %v, want access_denied", err)
			}
		})
	}
}

func TestDeviceCodeExpires(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			op := s.start(t, opOptions{deviceLifetime: time.Second})
			d := newDriver(t, op)
			ctx := testContext(t)
			da, err := d.(provider.DeviceAuthorizer).StartDevice(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Second) // past the server's lifetime
			_, err = d.(provider.DeviceAuthorizer).PollDevice(ctx, da)
			if !errors.Is(err, provider.ErrExpiredToken) {
				t.Fatalf("server answer = %v, want expired_token", err)
			}
			// The poller stops on its own at the device code's expiry too,
			// without another request.
			before := op.tokenReqs(t)
			_, err = (&login.DevicePoller{Sleep: (&logintest.ShortSleep{}).Sleep}).Poll(ctx, d.(provider.DeviceAuthorizer), da)
			if !errors.Is(err, provider.ErrExpiredToken) {
				t.Fatalf("poller = %v, want ErrExpiredToken", err)
			}
			if got := op.tokenReqs(t) - before; got != 0 {
				t.Errorf("poller sent %d requests for an expired device code", got)
			}
		})
	}
}

func TestDeviceSlowDownFromServer(t *testing.T) {
	op := startZitadel(t, opOptions{slowDown: 2})
	d := newDriver(t, op)
	ctx := testContext(t)
	sleep := &logintest.ShortSleep{}
	var userCode string
	login := &login.Login{
		Preference: login.PreferDevice,
		Device: login.DevicePoller{Sleep: sleep.Sleep, OnProgress: func(dp login.DeviceProgress) {
			if dp.Polls == 2 {
				if err := op.approve(ctx, userCode); err != nil {
					t.Errorf("approve: %v", err)
				}
			}
		}},
		ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error { userCode = da.UserCode; return nil },
	}
	if _, err := login.Run(ctx, d, nil); err != nil {
		t.Fatal(err)
	}
	// zitadel's interval, then +5 s per slow_down.
	got := sleep.Waited()
	if len(got) == 0 {
		t.Fatal("the poller never slept")
	}
	base := got[0]
	if want := []time.Duration{base, base + 5*time.Second, base + 10*time.Second}; !slices.Equal(got, want) {
		t.Fatalf("intervals = %v, want %v", got, want)
	}
}

func TestPKCELoginAndRefresh(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			op := s.start(t, opOptions{issuerPath: "/tenant-a"})
			d := newDriver(t, op)
			ctx := testContext(t)
			browsed := make(chan error, 1)
			login := &login.Login{
				Preference: login.PreferPKCE,
				Loopback: login.Loopback{Timeout: 30 * time.Second, Open: func(_ context.Context, u string) error {
					go func() { browsed <- op.browse(ctx, u) }()
					return nil
				}},
			}
			tok, err := login.Run(ctx, d, nil)
			if err != nil {
				t.Fatalf("login: %v (browser: %v)", err, <-browsed)
			}
			if err := <-browsed; err != nil {
				t.Fatalf("browser: %v", err)
			}
			if tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" {
				t.Fatalf("token = %v", tok)
			}
			id, err := d.(provider.Identifier).Identity(ctx, tok)
			if err != nil || id.Subject == "" {
				t.Fatalf("identity = %+v, %v", id, err)
			}

			// Refresh through the store, as hosts do.
			now := time.Now()
			store := &tokenstore.Store{Now: func() time.Time { return now }}
			key := tokenstore.Key{Issuer: op.issuer, ClientID: op.clientID, Subject: id.Subject}
			store.Put(key, tok)
			now = tok.Expiry.Add(time.Minute) // the token has expired
			fresh, err := store.Token(ctx, key, d.(provider.Refresher))
			if err != nil {
				t.Fatal(err)
			}
			if fresh.AccessToken == tok.AccessToken {
				t.Fatal("refresh returned the same access token")
			}
			// The new access token works at the userinfo endpoint.
			id2, err := d.(provider.Identifier).Identity(ctx, &provider.Token{AccessToken: fresh.AccessToken})
			if err != nil || id2.Subject != id.Subject {
				t.Fatalf("identity with refreshed token = %+v, %v", id2, err)
			}
			if op.rotates {
				if fresh.RefreshToken == tok.RefreshToken {
					t.Fatal("oidc-provider rotates refresh tokens; the store kept the old one")
				}
				// The old refresh token is spent (oidc-provider then revokes
				// the whole grant, so this check comes last).
				if _, err := d.(provider.Refresher).Refresh(ctx, tok); !errors.Is(err, provider.ErrInvalidGrant) {
					t.Fatalf("old refresh token: err = %v, want invalid_grant", err)
				}
			}
		})
	}
}

func TestPKCEDiscoveryPathInsertion(t *testing.T) {
	op := nodeop.Start(t, nodeop.Options{IssuerPath: "/tenant-a"})
	var disc discovery.Discoverer
	m, err := disc.AuthServer(testContext(t), op.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != op.BaseURL+"/.well-known/oauth-authorization-server/tenant-a" {
		t.Fatalf("metadata from %s, want the RFC 8414 path-inserted URL", m.Source)
	}
	if !m.AuthorizationResponseIssParameterSupported || m.DeviceAuthorizationEndpoint == "" {
		t.Fatalf("metadata = %+v", m)
	}
}
