package oidc_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// Keycloak has no driver: these tests show the generic driver logging in
// with a fake that serves Keycloak's documents and endpoints (canned under
// testdata/keycloak) for a realm issuer https://HOST/realms/NAME and the
// pre-17 form https://HOST/auth/realms/NAME.

const keycloakRealm = "acme"

// fakeKeycloak is one Keycloak realm on loopback: discovery appended to the
// issuer only (RFC 8414 path insertion is a 404), endpoints under
// {issuer}/protocol/openid-connect/, the device endpoint at .../auth/device
// for a public client with the device grant enabled, the RFC 9207 iss in
// the authorization response (Keycloak advertises it), RS256 ID tokens,
// and refresh tokens that stay valid after use (Revoke Refresh Token is
// off by default).
type fakeKeycloak struct {
	*logintest.Server
	t        *testing.T
	prefix   string // "/realms/acme" or "/auth/realms/acme"
	clientID string
	// deviceGrant is the client's "OAuth 2.0 Device Authorization Grant"
	// switch, off by default in Keycloak.
	deviceGrant bool

	key     *logintest.Signer
	devices *logintest.Devices
	codes   logintest.AuthCodes

	mu      sync.Mutex
	refresh map[string]string // refresh token → scope
}

func newFakeKeycloak(t *testing.T, prefix string, deviceGrant bool) *fakeKeycloak {
	f := &fakeKeycloak{t: t, prefix: prefix, clientID: "mcp-cli", deviceGrant: deviceGrant, key: logintest.NewSigner(t),
		devices: logintest.NewDevices(t), refresh: map[string]string{}}
	oidcPath := prefix + "/protocol/openid-connect"
	mux := http.NewServeMux()
	f.Server = logintest.NewServer(t, mux)
	mux.HandleFunc("GET "+prefix+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.json(w, http.StatusOK, "openid-configuration.json", map[string]string{"$ISSUER": f.issuer()})
	})
	mux.HandleFunc("GET "+oidcPath+"/certs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		f.key.JWKS(w, r)
	})
	mux.HandleFunc("GET "+oidcPath+"/auth", f.authorize)
	mux.HandleFunc("POST "+oidcPath+"/auth/device", f.device)
	mux.HandleFunc("POST "+oidcPath+"/token", f.token)
	mux.HandleFunc("GET "+oidcPath+"/userinfo", func(w http.ResponseWriter, r *http.Request) {
		f.json(w, http.StatusOK, "userinfo.json", nil)
	})
	return f
}

func (f *fakeKeycloak) issuer() string { return f.URL + f.prefix }

func (f *fakeKeycloak) json(w http.ResponseWriter, status int, name string, vars map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(logintest.Canned(f.t, "keycloak/"+name, vars))
}

func (f *fakeKeycloak) fail(w http.ResponseWriter, name string) {
	f.json(w, http.StatusBadRequest, "errors/"+name+".json", nil)
}

func (f *fakeKeycloak) device(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if r.PostForm.Get("client_id") != f.clientID || !f.deviceGrant {
		f.fail(w, "unauthorized_client")
		return
	}
	dc, uc := f.devices.Start(r.PostForm.Get("scope"), "")
	f.json(w, http.StatusOK, "device.json", map[string]string{"$DEVICE_CODE": dc, "$USER_CODE": uc, "$ISSUER": f.issuer()})
}

func (f *fakeKeycloak) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	form := r.PostForm
	if form.Get("client_id") != f.clientID {
		f.json(w, http.StatusUnauthorized, "errors/unauthorized_client.json", nil)
		return
	}
	switch form.Get("grant_type") {
	case provider.GrantTypeDeviceCode:
		d, ok := f.devices.Get(form.Get("device_code"))
		switch {
		case !ok:
			f.fail(w, "invalid_grant")
		case d.Expired:
			f.fail(w, "expired_token")
		case d.Denied:
			f.fail(w, "access_denied")
		case !d.Approved:
			f.fail(w, "authorization_pending")
		default:
			f.issue(w, d.Scope)
		}
	case provider.GrantTypeAuthorizationCode:
		c, ok := f.codes.Redeem(form.Get("code"))
		if !ok || c.RedirectURI != form.Get("redirect_uri") || !c.Verifies(form.Get("code_verifier")) {
			f.fail(w, "invalid_grant_code")
			return
		}
		f.issue(w, c.Scope)
	case provider.GrantTypeRefreshToken:
		f.mu.Lock()
		scope, ok := f.refresh[form.Get("refresh_token")]
		f.mu.Unlock()
		if !ok {
			f.fail(w, "invalid_grant_refresh")
			return
		}
		f.issue(w, scope)
	default:
		f.fail(w, "unauthorized_client")
	}
}

func (f *fakeKeycloak) issue(w http.ResponseWriter, scope string) {
	rt := "eyJhbGciOiJIUzUxMiJ9." + logintest.RandomString()
	f.mu.Lock()
	f.refresh[rt] = scope
	f.mu.Unlock()
	f.json(w, http.StatusOK, "token.json", map[string]string{
		"$ACCESS_TOKEN": "eyJhbGciOiJSUzI1NiJ9." + logintest.RandomString(), "$REFRESH_TOKEN": rt, "$ID_TOKEN": f.idToken(),
		"$SESSION": logintest.RandomString(), "$SCOPE": scope,
	})
}

func (f *fakeKeycloak) idToken() string {
	now := time.Now().Unix()
	return f.key.IDToken(map[string]any{
		"iss": f.issuer(), "sub": "5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", "aud": f.clientID, "azp": f.clientID, "typ": "ID",
		"iat": now, "exp": now + 300, "preferred_username": "alice", "name": "Alice Example",
	})
}

// authorize consents at once and redirects with code, state and iss
// (RFC 9207), as Keycloak does.
func (f *fakeKeycloak) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ru, ok := logintest.LoopbackRedirect(q.Get("redirect_uri"))
	if q.Get("client_id") != f.clientID || !ok {
		http.Error(w, "Invalid parameter: redirect_uri", http.StatusBadRequest)
		return
	}
	back := ru.Query()
	back.Set("state", q.Get("state"))
	back.Set("iss", f.issuer())
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("response_type") != "code" {
		back.Set("error", "invalid_request")
	} else {
		back.Set("session_state", logintest.RandomString())
		back.Set("code", f.codes.Issue(logintest.AuthCode{RedirectURI: q.Get("redirect_uri"), Challenge: q.Get("code_challenge"), Scope: q.Get("scope")}))
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func newKeycloakDriver(t *testing.T, f *fakeKeycloak) *oidc.Driver {
	t.Helper()
	disc := &discovery.Discoverer{}
	d, err := oidc.New(oidc.Config{Issuer: f.issuer(), ClientID: f.clientID, Scopes: []string{"openid", "profile", "offline_access"},
		Discover: func(ctx context.Context, iss string) (*provider.AuthServerMetadata, error) {
			return disc.AuthServer(ctx, iss)
		}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var keycloakIssuers = []struct{ name, prefix string }{
	{"Keycloak 17+ /realms/NAME", "/realms/" + keycloakRealm},
	{"Keycloak before 17 /auth/realms/NAME", "/auth/realms/" + keycloakRealm},
}

func TestKeycloakDeviceLogin(t *testing.T) {
	for _, tt := range keycloakIssuers {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeycloak(t, tt.prefix, true)
			d := newKeycloakDriver(t, f)
			m, err := d.Metadata(logintest.Context(t))
			if err != nil {
				t.Fatal(err)
			}
			if m.DeviceAuthorizationEndpoint != f.issuer()+"/protocol/openid-connect/auth/device" || m.Source != f.issuer()+"/.well-known/openid-configuration" {
				t.Fatalf("metadata from %s: device endpoint %q", m.Source, m.DeviceAuthorizationEndpoint)
			}
			sleep := &logintest.FastSleep{}
			var shown *provider.DeviceAuthorization
			l := &login.Login{
				Preference: login.PreferDevice,
				Device: login.DevicePoller{Sleep: sleep.Sleep, OnProgress: func(p login.DeviceProgress) {
					if p.Polls == 2 {
						f.devices.Approve(shown.UserCode)
					}
				}},
				ShowDevice: func(_ context.Context, da *provider.DeviceAuthorization) error { shown = da; return nil },
			}
			tok, err := l.Run(logintest.Context(t), d, nil)
			if err != nil {
				t.Fatal(err)
			}
			if shown.VerificationURI != f.issuer()+"/device" || tok.RefreshToken == "" || tok.IDToken == "" ||
				!slices.Equal(tok.Scopes, []string{"openid", "profile", "offline_access"}) {
				t.Fatalf("device authorization %v, token %v", shown, tok)
			}
			if n := f.Requests(f.prefix + "/protocol/openid-connect/token"); n != 3 {
				t.Errorf("token requests = %d, want 3", n)
			}
			id, err := d.Identity(logintest.Context(t), tok)
			if err != nil || id.Subject != "5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d" {
				t.Fatalf("identity = %+v, %v", id, err)
			}
		})
	}
}

func TestKeycloakPKCELoginAndRefresh(t *testing.T) {
	for _, tt := range keycloakIssuers {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeycloak(t, tt.prefix, false)
			d := newKeycloakDriver(t, f)
			tok, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil)
			if err != nil {
				t.Fatal(err)
			}
			id, err := d.Identity(logintest.Context(t), tok)
			if err != nil {
				t.Fatal(err)
			}
			// Keycloak hands out a new refresh token on every refresh.
			logintest.RefreshRotates(t, d, tokenstore.Key{Issuer: f.issuer(), ClientID: f.clientID, Subject: id.Subject}, tok)
			if _, err := d.Refresh(logintest.Context(t), &provider.Token{RefreshToken: "not-a-refresh-token"}); !errors.Is(err, provider.ErrInvalidGrant) {
				t.Fatalf("bad refresh token: %v", err)
			}
		})
	}
}

// TestKeycloakDeviceGrantOff: the device grant is off by default per
// client; Keycloak then refuses with unauthorized_client.
func TestKeycloakDeviceGrantOff(t *testing.T) {
	f := newFakeKeycloak(t, keycloakIssuers[0].prefix, false)
	d := newKeycloakDriver(t, f)
	_, err := d.StartDevice(logintest.Context(t), nil)
	var oe *provider.OAuthError
	if !errors.Is(err, provider.ErrInvalidClient) || !errors.As(err, &oe) || oe.Code != "unauthorized_client" {
		t.Fatalf("err = %v", err)
	}
}
