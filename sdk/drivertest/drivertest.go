package drivertest

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
)

// OP is the authorization server a contract run logs in against, with the
// user's side of a login done headlessly.
type OP interface {
	// DriverConfig is how a driver for this server is configured (issuer,
	// client ID, scopes that yield a refresh token, options).
	DriverConfig() provider.DriverConfig
	ApproveDevice(ctx context.Context, userCode string) error
	DenyDevice(ctx context.Context, userCode string) error
	// Browse acts as the user's browser for an authorization URL, until the
	// redirect reached the client's loopback listener.
	Browse(ctx context.Context, authURL string) error
}

// RevokingOP is an OP that serves the revocation_endpoint (RFC 7009) its
// metadata advertises. The contract revokes tokens only at such a server: an
// issuer fake may advertise an endpoint it does not implement. Zitadel is
// one.
type RevokingOP interface {
	OP
	ServesRevocation() bool
}

// Suite is one contract run.
type Suite struct {
	// NewDriver builds the driver under test, configured for op.
	NewDriver func(t *testing.T, op OP) provider.Driver
	// OP starts the authorization server; nil means Zitadel.
	OP func(t *testing.T) OP
	// Quirks, if set, change what the OP answers (through a loopback
	// proxy), to test the driver against an issuer's quirk.
	Quirks Quirks
}

// Zitadel starts the embedded zitadel/oidc OP (device grant, code + PKCE,
// refresh, OpenID discovery) on 127.0.0.1 for the test.
func Zitadel(t *testing.T) OP {
	return zitadelOP{zitadelop.Start(t, zitadelop.Options{})}
}

type zitadelOP struct{ *zitadelop.OP }

func (z zitadelOP) DriverConfig() provider.DriverConfig {
	return provider.DriverConfig{Issuer: z.Issuer, ClientID: z.ClientID, Scopes: []string{"openid", "profile", "offline_access"}}
}

// ServesRevocation reports that zitadel serves its revocation endpoint.
func (zitadelOP) ServesRevocation() bool { return true }

// withDiscover fills in the host's discovery, as the registry does.
func withDiscover(cfg provider.DriverConfig) provider.DriverConfig {
	if cfg.Discover == nil {
		cfg.Discover = discovery.AuthServer
	}
	return cfg
}

// InProcess builds the driver with factory in the test process.
func InProcess(factory provider.DriverFactory) func(t *testing.T, op OP) provider.Driver {
	return func(t *testing.T, op OP) provider.Driver {
		t.Helper()
		d, err := factory(context.Background(), withDiscover(op.DriverConfig()))
		if err != nil {
			t.Fatalf("drivertest: factory: %v", err)
		}
		return d
	}
}

// Plugin runs the driver as a plugin subprocess of the binary at path, the
// way hosts do (sha256 verified, AutoMTLS, no host environment). extraEnv
// ("KEY=VALUE") is set in the plugin's environment.
func Plugin(path string, extraEnv ...string) func(t *testing.T, op OP) provider.Driver {
	return func(t *testing.T, op OP) provider.Driver {
		t.Helper()
		sum, err := registry.FileSHA256(path)
		if err != nil {
			t.Fatalf("drivertest: %v", err)
		}
		raw, _ := hex.DecodeString(sum)
		p := registry.OpenPlugin(registry.PluginSpec{
			Provider: "contract", Path: path, SHA256: raw, ExtraEnv: extraEnv, Config: op.DriverConfig(),
		})
		t.Cleanup(p.Close)
		return p
	}
}

// BuiltinPlugin runs a built-in driver as a subprocess of the test binary
// itself, as hosts run built-in drivers (the binary must link registry).
func BuiltinPlugin(driverName string) func(t *testing.T, op OP) provider.Driver {
	return func(t *testing.T, op OP) provider.Driver {
		t.Helper()
		spec, err := registry.BuiltinPluginSpec("contract", driverName, op.DriverConfig())
		if err != nil {
			t.Fatal(err)
		}
		p := registry.OpenPlugin(spec)
		t.Cleanup(p.Close)
		return p
	}
}

// Run runs the contract. Each part is a subtest; parts the driver does not
// offer (a grant, refresh, identity, revocation) are skipped with the reason.
func Run(t *testing.T, s Suite) {
	t.Helper()
	startOP := s.OP
	if startOP == nil {
		startOP = Zitadel
	}
	op := startOP(t)
	if !s.Quirks.isZero() {
		op = withQuirks(t, op, s.Quirks)
	}
	d := s.NewDriver(t, op)
	cfg := op.DriverConfig()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)

	var meta *provider.AuthServerMetadata
	t.Run("Metadata", func(t *testing.T) {
		var err error
		meta, err = d.Metadata(ctx)
		if err != nil {
			t.Fatalf("Metadata: %v", err)
		}
		if err := meta.Validate(); err != nil {
			t.Fatalf("Metadata does not validate: %v", err)
		}
		if meta.TokenEndpoint == "" {
			t.Fatal("Metadata has no token endpoint")
		}
		// Concurrent callers get the same answer (and -race watches).
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if m, err := d.Metadata(ctx); err != nil || m.Issuer != meta.Issuer {
					t.Errorf("concurrent Metadata = %v, %v", m, err)
				}
			}()
		}
		wg.Wait()
	})
	if meta == nil {
		return
	}
	desc := d.Describe()
	t.Run("Describe", func(t *testing.T) {
		if desc.Name == "" || desc.Version == "" {
			t.Errorf("Describe lacks name or version: %+v", desc)
		}
		if len(desc.Grants) == 0 {
			t.Error("Describe lists no grant")
		}
		for _, g := range desc.Grants {
			if g != provider.GrantDevice && g != provider.GrantPKCE {
				t.Errorf("unknown grant %q", g)
			}
		}
		if desc.ClientID != cfg.ClientID {
			t.Errorf("ClientID = %q, want %q", desc.ClientID, cfg.ClientID)
		}
	})

	var subjects []string
	identify := func(t *testing.T, tok *provider.Token) {
		idr, ok := d.(provider.Identifier)
		if !ok {
			return
		}
		id, err := idr.Identity(ctx, tok)
		if errors.Is(err, provider.ErrGrantUnsupported) {
			return
		}
		if err != nil || id.Subject == "" {
			t.Fatalf("Identity = %+v, %v", id, err)
		}
		subjects = append(subjects, id.Subject)
	}
	var refreshable *provider.Token

	if desc.Offers(provider.GrantDevice) && meta.Offers(provider.GrantDevice) {
		dev := d.(provider.DeviceAuthorizer)
		t.Run("DeviceApproved", func(t *testing.T) {
			da, err := dev.StartDevice(ctx, nil)
			if err != nil {
				t.Fatalf("StartDevice: %v", err)
			}
			if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
				t.Fatalf("device authorization incomplete: %v", da)
			}
			if err := provider.CheckEndpointURL("verification_uri", da.VerificationURI); err != nil {
				t.Fatal(err)
			}
			// Before approval the server says so, typed.
			if _, err := dev.PollDevice(ctx, da); !errors.Is(err, provider.ErrAuthorizationPending) && !errors.Is(err, provider.ErrSlowDown) {
				t.Fatalf("PollDevice before approval = %v, want authorization_pending", err)
			}
			if err := op.ApproveDevice(ctx, da.UserCode); err != nil {
				t.Fatal(err)
			}
			tok, err := (&login.DevicePoller{Sleep: (&logintest.ShortSleep{}).Sleep}).Poll(ctx, dev, da)
			if err != nil {
				t.Fatalf("Poll after approval: %v", err)
			}
			checkToken(t, tok)
			identify(t, tok)
			if tok.RefreshToken != "" {
				refreshable = tok
			}
		})
		t.Run("DeviceDenied", func(t *testing.T) {
			login := &login.Login{
				Preference: login.PreferDevice,
				Device:     login.DevicePoller{Sleep: (&logintest.ShortSleep{}).Sleep},
				ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error {
					return op.DenyDevice(ctx, da.UserCode)
				},
			}
			if _, err := login.Run(ctx, d, nil); !errors.Is(err, provider.ErrAccessDenied) {
				t.Fatalf("denied login: err = %v, want ErrAccessDenied", err)
			}
		})
	} else {
		t.Run("DeviceApproved", func(t *testing.T) { t.Skip("driver or server offers no device grant") })
	}

	if desc.Offers(provider.GrantPKCE) && meta.Offers(provider.GrantPKCE) {
		t.Run("PKCE", func(t *testing.T) {
			browsed := make(chan error, 1)
			login := &login.Login{
				Preference: login.PreferPKCE,
				Loopback: login.Loopback{Timeout: time.Minute, Open: func(_ context.Context, u string) error {
					if !strings.Contains(u, "code_challenge_method=S256") {
						return errors.New("authorization URL lacks code_challenge_method=S256: " + u)
					}
					go func() { browsed <- op.Browse(ctx, u) }()
					return nil
				}},
			}
			tok, err := login.Run(ctx, d, nil)
			if err != nil {
				t.Fatalf("PKCE login: %v", err)
			}
			if err := <-browsed; err != nil {
				t.Fatalf("browser: %v", err)
			}
			checkToken(t, tok)
			identify(t, tok)
			if tok.RefreshToken != "" {
				refreshable = tok
			}
		})
	} else {
		t.Run("PKCE", func(t *testing.T) { t.Skip("driver or server offers no pkce grant") })
	}

	t.Run("Refresh", func(t *testing.T) {
		r, ok := d.(provider.Refresher)
		if !ok || refreshable == nil {
			t.Skip("no refresher or no refresh token issued")
		}
		nt, err := r.Refresh(ctx, refreshable)
		if errors.Is(err, provider.ErrGrantUnsupported) {
			t.Skip("driver does not refresh")
		}
		if err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		checkToken(t, nt)
		if nt.AccessToken == refreshable.AccessToken {
			t.Error("refresh returned the same access token")
		}
		identify(t, nt)
		if nt.RefreshToken != "" {
			refreshable = nt // the old one may be spent (rotation)
		}
	})

	t.Run("Identity", func(t *testing.T) {
		if len(subjects) == 0 {
			t.Skip("driver does not identify users")
		}
		for _, s := range subjects[1:] {
			if s != subjects[0] {
				t.Fatalf("the same user has different subjects: %v", subjects)
			}
		}
	})

	// Last: with some servers (oidc-provider) revoking one token revokes the
	// whole grant.
	t.Run("Revoke", func(t *testing.T) {
		r, ok := d.(provider.Revoker)
		if !ok {
			t.Skip("driver does not revoke tokens")
		}
		if meta.RevocationEndpoint == "" {
			t.Skip("server advertises no revocation_endpoint")
		}
		if rop, ok := op.(RevokingOP); !ok || !rop.ServesRevocation() {
			t.Skip("the OP does not say it serves its revocation_endpoint (drivertest.RevokingOP)")
		}
		if refreshable == nil {
			t.Skip("no refresh token issued")
		}
		err := r.Revoke(ctx, refreshable)
		if errors.Is(err, provider.ErrRevocationUnsupported) || errors.Is(err, provider.ErrGrantUnsupported) {
			t.Skipf("driver does not revoke tokens: %v", err)
		}
		if err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		rf, ok := d.(provider.Refresher)
		if !ok {
			return
		}
		// RFC 7009 §2.1: a revoked refresh token no longer refreshes.
		if _, err := rf.Refresh(ctx, refreshable); !errors.Is(err, provider.ErrInvalidGrant) {
			t.Fatalf("Refresh with the revoked token = %v, want invalid_grant", err)
		}
		// Revoking again succeeds: the token is invalid (RFC 7009 §2.2).
		if err := r.Revoke(ctx, refreshable); err != nil {
			t.Fatalf("Revoke of a revoked token: %v", err)
		}
	})

	t.Run("ChallengeIgnoresSuccess", func(t *testing.T) {
		c, ok := d.(provider.Challenger)
		if !ok {
			t.Skip("driver reads no challenges")
		}
		if sc, ok := c.Challenge(provider.APIResponse{StatusCode: http.StatusOK, Header: http.Header{}}); ok {
			t.Fatalf("a 200 response read as a scope challenge: %+v", sc)
		}
	})

	t.Run("BadDeviceCodeIsAnError", func(t *testing.T) {
		dev, ok := d.(provider.DeviceAuthorizer)
		if !ok || !desc.Offers(provider.GrantDevice) {
			t.Skip("no device grant")
		}
		_, err := dev.PollDevice(ctx, &provider.DeviceAuthorization{DeviceCode: "not-a-device-code", UserCode: "XXXX"})
		if err == nil || errors.Is(err, provider.ErrAuthorizationPending) {
			t.Fatalf("an unknown device code gave %v", err)
		}
	})
}

func checkToken(t *testing.T, tok *provider.Token) {
	t.Helper()
	if tok == nil || tok.AccessToken == "" {
		t.Fatalf("no access token: %v", tok)
	}
	if !tok.Expiry.IsZero() && !tok.Expiry.After(time.Now()) {
		t.Errorf("token already expired: %v", tok.Expiry)
	}
	if strings.Contains(tok.String(), tok.AccessToken) {
		t.Error("Token.String prints the access token")
	}
}
