package okta_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

// Okta app grant types, as the Admin Console names them.
const (
	grantDevice  = "device"
	grantCode    = "authorization_code"
	grantRefresh = "refresh_token"
)

// fakeOkta reproduces an Okta org on a loopback httptest server: the org
// authorization server (issuer BASE, endpoints /oauth2/v1/...) and the
// custom server "default" (issuer BASE/oauth2/default), whose metadata is
// served at the RFC 8414 path-insertion URL, the form Okta calls the
// standard (legacyOnly: only at the appended, legacy URL); one app with
// its exact sign-in redirect URIs (port included);
// its grant types and client type; refresh tokens only for offline_access,
// rotated on use; ID tokens signed with RS256; and DPoP on the token
// endpoint (RFC 9449: proof verification, nonces, key-bound tokens). It
// checks what Okta checks, so a driver that sends the wrong thing fails.
type fakeOkta struct {
	*logintest.Server
	t *testing.T

	clientID string
	// web: the app is a Web app (confidential); the fake then refuses the
	// public client the driver is, as Okta does.
	web bool
	// grants are the app's enabled grant types.
	grants []string
	// requireDPoP: "Require DPoP header in token requests".
	requireDPoP bool
	// noOIDCDiscovery: the custom server's openid-configuration is absent,
	// leaving only its oauth-authorization-server document.
	noOIDCDiscovery bool
	// legacyOnly: the custom server's documents are served only with the
	// well-known path appended to the issuer (Okta's legacy form).
	legacyOnly bool
	// dynamicIssuer: the app formats the issuer on another host (a custom
	// domain); a metadata request names it only with ?client_id= of that
	// app, otherwise the issuer is the org's default format.
	dynamicIssuer bool
	// noRotation: refresh-token rotation is off (Okta's default): a refresh
	// returns no new refresh token and the one used stays valid.
	noRotation bool
	// noDevicePolicyRule: no access policy rule of the custom server allows
	// the Device Authorization grant.
	noDevicePolicyRule bool
	// port is the loopback port of the registered sign-in redirect URI;
	// redirects are the registered URIs, matched exactly. anyLoopback also
	// accepts http://127.0.0.1:ANY/callback, only for the contract kit,
	// whose listener ignores LoopbackPortFixed.
	port        int
	redirects   []string
	anyLoopback bool

	key *logintest.Signer

	devices *logintest.Devices
	codes   logintest.AuthCodes

	mu        sync.Mutex
	nonce     string
	jtis      map[string]bool
	refresh   map[string]*grant // live refresh tokens
	tokens    map[string]*grant // access tokens
	proofs    int               // token requests that carried a DPoP proof
	polls     int
	slowDowns []int
}

type grant struct {
	scope, issuer, jkt string
}

func newFakeOkta(t *testing.T, configure func(*fakeOkta)) *fakeOkta {
	f := &fakeOkta{
		t: t, clientID: "0oa1b2c3d4e5f6g7h8i9", grants: []string{grantDevice, grantCode, grantRefresh},
		key: logintest.NewSigner(t), nonce: logintest.RandomString(), jtis: map[string]bool{}, devices: logintest.NewDevices(t),
		refresh: map[string]*grant{}, tokens: map[string]*grant{}, port: logintest.FreePort(t),
	}
	f.redirects = []string{fmt.Sprintf("http://127.0.0.1:%d/callback", f.port)}
	if configure != nil {
		configure(f)
	}
	mux := http.NewServeMux()
	f.Server = logintest.NewServer(t, mux)

	// The org server's documents are at the root; the custom server's at
	// the RFC 8414 path-insertion URLs
	// (/.well-known/oauth-authorization-server/oauth2/default), or, with
	// legacyOnly, only appended to its issuer.
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", f.metadata(f.orgIssuer(), "/oauth2/v1"))
	mux.HandleFunc("GET /.well-known/openid-configuration", f.metadata(f.orgIssuer(), "/oauth2/v1"))
	custom := []string{"/.well-known/oauth-authorization-server/oauth2/default", "/.well-known/openid-configuration/oauth2/default"}
	if f.legacyOnly {
		custom = []string{"/oauth2/default/.well-known/oauth-authorization-server", "/oauth2/default/.well-known/openid-configuration"}
	}
	mux.HandleFunc("GET "+custom[0], f.metadata(f.customIssuer(), "/oauth2/default/v1"))
	if !f.noOIDCDiscovery {
		mux.HandleFunc("GET "+custom[1], f.metadata(f.customIssuer(), "/oauth2/default/v1"))
	}
	for _, as := range []struct{ issuer, prefix string }{
		{f.orgIssuer(), "/oauth2/v1"},
		{f.customIssuer(), "/oauth2/default/v1"},
	} {
		mux.HandleFunc("POST "+as.prefix+"/device/authorize", func(w http.ResponseWriter, r *http.Request) { f.deviceAuthorize(w, r, as.issuer) })
		mux.HandleFunc("POST "+as.prefix+"/token", func(w http.ResponseWriter, r *http.Request) { f.token(w, r, as.issuer) })
		mux.HandleFunc("GET "+as.prefix+"/authorize", func(w http.ResponseWriter, r *http.Request) { f.authorize(w, r, as.issuer) })
		mux.HandleFunc("GET "+as.prefix+"/keys", f.key.JWKS)
		mux.HandleFunc("GET "+as.prefix+"/userinfo", f.userinfo)
	}
	return f
}

func (f *fakeOkta) orgIssuer() string    { return f.URL }
func (f *fakeOkta) customIssuer() string { return f.URL + "/oauth2/default" }

func (f *fakeOkta) set(change func(*fakeOkta)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeOkta) proofCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.proofs
}

func (f *fakeOkta) enabled(g string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.grants, g)
}

// metadata serves a server's document. With dynamicIssuer the configured
// issuer is on "localhost" (the custom domain; the same loopback server)
// and only a request with the app's client_id gets it; without, the issuer
// is the org's 127.0.0.1 form (Okta: "pass in the client_id to ensure that
// the returned issuer format matches"). An unknown client_id is a 400.
func (f *fakeOkta) metadata(issuer, prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		base := f.URL
		if f.dynamicIssuer {
			switch id := r.URL.Query().Get("client_id"); id {
			case "":
			case f.clientID:
				base = f.customDomain()
				issuer = strings.Replace(issuer, f.URL, base, 1)
			default:
				f.json(w, http.StatusBadRequest, "errors/invalid_client.json", nil)
				return
			}
		}
		f.json(w, http.StatusOK, "metadata.json", map[string]string{"$ISSUER": issuer, "$PREFIX": base + prefix, "$BASE": base})
	}
}

// customDomain is the fake's URL on the host "localhost": a second name
// for the same server, standing in for an org's custom domain.
func (f *fakeOkta) customDomain() string { return strings.Replace(f.URL, "127.0.0.1", "localhost", 1) }

func (f *fakeOkta) json(w http.ResponseWriter, status int, name string, vars map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(logintest.Canned(f.t, name, vars))
}

// fail answers an OAuth error; invalid_client is a 401, the rest 400.
func (f *fakeOkta) fail(w http.ResponseWriter, name string, vars map[string]string) {
	status := http.StatusBadRequest
	if name == "invalid_client" {
		status = http.StatusUnauthorized
	}
	f.json(w, status, "errors/"+name+".json", vars)
}

// client checks the client as Okta does: a known client ID, and a public
// (Native) app, since the driver sends no client authentication.
func (f *fakeOkta) client(w http.ResponseWriter, r *http.Request) bool {
	if r.PostForm.Get("client_id") != f.clientID || f.web {
		f.fail(w, "invalid_client", nil)
		return false
	}
	return true
}

func (f *fakeOkta) deviceAuthorize(w http.ResponseWriter, r *http.Request, issuer string) {
	r.ParseForm()
	if !f.client(w, r) {
		return
	}
	if !f.enabled(grantDevice) {
		f.fail(w, "unauthorized_client", nil)
		return
	}
	if f.noDevicePolicyRule && issuer == f.customIssuer() {
		f.fail(w, "policy_evaluation_failed", nil)
		return
	}
	dc, uc := f.devices.Start(r.PostForm.Get("scope"), issuer)
	f.json(w, http.StatusOK, "device_authorize.json", map[string]string{"$DEVICE_CODE": dc, "$USER_CODE": uc, "$BASE": f.URL})
}

func (f *fakeOkta) token(w http.ResponseWriter, r *http.Request, issuer string) {
	r.ParseForm()
	if !f.client(w, r) {
		return
	}
	jkt, ok := f.checkDPoP(w, r)
	if !ok {
		return
	}
	form := r.PostForm
	switch form.Get("grant_type") {
	case provider.GrantTypeDeviceCode:
		if !f.enabled(grantDevice) {
			f.fail(w, "unauthorized_client", nil)
			return
		}
		d, known := f.devices.Get(form.Get("device_code"))
		f.mu.Lock()
		f.polls++
		var code string
		switch {
		case !known || d.Issuer != issuer:
			code = "invalid_grant"
		case d.Expired:
			code = "expired_token"
		case d.Denied:
			code = "access_denied"
		case slices.Contains(f.slowDowns, f.polls):
			code = "slow_down"
		case !d.Approved:
			code = "authorization_pending"
		}
		f.mu.Unlock()
		if code != "" {
			f.fail(w, code, nil)
			return
		}
		f.issue(w, &grant{scope: d.Scope, issuer: issuer, jkt: jkt})
	case provider.GrantTypeAuthorizationCode:
		c, ok := f.codes.Redeem(form.Get("code"))
		switch {
		case !ok || c.Issuer != issuer:
			f.fail(w, "invalid_grant_code", nil)
		case form.Get("redirect_uri") != c.RedirectURI:
			f.fail(w, "invalid_grant_redirect", nil)
		case !c.Verifies(form.Get("code_verifier")):
			f.fail(w, "invalid_grant_verifier", nil)
		default:
			f.issue(w, &grant{scope: c.Scope, issuer: issuer, jkt: jkt})
		}
	case provider.GrantTypeRefreshToken:
		if !f.enabled(grantRefresh) {
			f.fail(w, "unauthorized_client", nil)
			return
		}
		rt := form.Get("refresh_token")
		f.mu.Lock()
		g := f.refresh[rt]
		bound := g != nil && g.jkt != "" && g.jkt != jkt
		if g != nil && !bound && !f.noRotation {
			delete(f.refresh, rt) // rotation: the refresh token used is spent
		}
		f.mu.Unlock()
		switch {
		case g == nil || g.issuer != issuer:
			f.fail(w, "invalid_grant", nil)
		case bound:
			f.fail(w, "dpop_key_mismatch", nil)
		case f.noRotation:
			f.issueAccess(w, &grant{scope: g.scope, issuer: issuer, jkt: g.jkt})
		default:
			f.issue(w, &grant{scope: g.scope, issuer: issuer, jkt: g.jkt})
		}
	default:
		f.fail(w, "unauthorized_client", nil)
	}
}

// issue answers a token response: token_type DPoP for a key-bound token, a
// refresh token only for offline_access with the grant enabled, an ID token
// for openid.
func (f *fakeOkta) issue(w http.ResponseWriter, g *grant) {
	scopes := strings.Fields(g.scope)
	at := "eyJraWQiOiJhdCJ9." + logintest.RandomString()
	vars := map[string]string{"$ACCESS_TOKEN": at, "$SCOPE": g.scope, "$TOKEN_TYPE": "Bearer", "$ID_TOKEN": ""}
	if g.jkt != "" {
		vars["$TOKEN_TYPE"] = "DPoP"
	}
	if slices.Contains(scopes, "openid") {
		vars["$ID_TOKEN"] = f.idToken(g.issuer)
	}
	name := "token_no_refresh.json"
	f.mu.Lock()
	if slices.Contains(scopes, "offline_access") && slices.Contains(f.grants, grantRefresh) {
		name = "token.json"
		vars["$REFRESH_TOKEN"] = logintest.RandomString()
		f.refresh[vars["$REFRESH_TOKEN"]] = g
	}
	f.tokens[at] = g
	f.mu.Unlock()
	f.json(w, http.StatusOK, name, vars)
}

// issueAccess answers a refresh without rotation: a new access token (and
// ID token), no refresh_token field; the refresh token used stays valid.
func (f *fakeOkta) issueAccess(w http.ResponseWriter, g *grant) {
	at := "eyJraWQiOiJhdCJ9." + logintest.RandomString()
	vars := map[string]string{"$ACCESS_TOKEN": at, "$SCOPE": g.scope, "$TOKEN_TYPE": "Bearer", "$ID_TOKEN": ""}
	if g.jkt != "" {
		vars["$TOKEN_TYPE"] = "DPoP"
	}
	if slices.Contains(strings.Fields(g.scope), "openid") {
		vars["$ID_TOKEN"] = f.idToken(g.issuer)
	}
	f.mu.Lock()
	f.tokens[at] = g
	f.mu.Unlock()
	f.json(w, http.StatusOK, "token_no_refresh.json", vars)
}

func (f *fakeOkta) idToken(issuer string) string {
	now := time.Now().Unix()
	return f.key.IDToken(map[string]any{
		"iss": issuer, "sub": "00u1a2b3c4D5e6F7g8h9", "aud": f.clientID, "iat": now, "exp": now + 3600,
		"name": "Alice Example", "preferred_username": "alice@example.com", "ver": 1,
	})
}

func (f *fakeOkta) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	g := f.tokens[tok]
	f.mu.Unlock()
	if !ok || g == nil || g.jkt != "" {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.json(w, http.StatusOK, "userinfo.json", nil)
}

// authorize is the browser leg: the fake user signs in and consents at once.
func (f *fakeOkta) authorize(w http.ResponseWriter, r *http.Request, issuer string) {
	a := logintest.ReadAuthorize(r)
	if !(f.anyLoopback && a.Redirect != nil) {
		a.Redirect = nil
		a.Registered(f.redirects) // Okta matches the redirect URI exactly, port included
	}
	switch {
	case !a.ClientIs(f.clientID):
		http.Error(w, "invalid client_id", http.StatusBadRequest)
	case a.Redirect == nil:
		http.Error(w, "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings", http.StatusBadRequest)
	case a.Query.Get("response_type") != "code":
		a.RedirectBack(w, r, url.Values{"error": {"unsupported_response_type"}})
	case !a.HasS256():
		a.RedirectBack(w, r, url.Values{"error": {"invalid_request"},
			"error_description": {"PKCE code challenge is required when the token endpoint authentication method is 'NONE'."}})
	case !f.enabled(grantCode):
		a.RedirectBack(w, r, url.Values{"error": {"unauthorized_client"}})
	default:
		a.RedirectBack(w, r, url.Values{"code": {a.Issue(&f.codes, "scope", issuer)}})
	}
}
