package auth0_test

import (
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

// Auth0 application grant types, as the Dashboard names them.
const (
	grantDevice  = provider.GrantTypeDeviceCode
	grantCode    = provider.GrantTypeAuthorizationCode
	grantRefresh = provider.GrantTypeRefreshToken
)

// testAPI is the API registered in the fake tenant.
const testAPI = "https://api.acme.example"

// fakeAuth0 reproduces an Auth0 tenant on a loopback httptest server. Its
// issuer is BASE/ with the trailing slash; only OpenID discovery is served.
// One Native application with its grant types; one API (testAPI) with
// "Allow Offline Access". Without an audience the access token is opaque
// and good only at /userinfo. Device polls are refused as Auth0 does
// (authorization_pending 403, slow_down 429, expired_token once then
// invalid_grant); refresh tokens are issued for offline_access and rotate
// with a reuse interval: the previous token exchanged again within it gets
// the same new pair; after it the whole family is revoked.
type fakeAuth0 struct {
	*logintest.Server
	t *testing.T

	clientID string
	grants   []string
	// offline is the API's "Allow Offline Access".
	offline bool
	// leeway is the rotation's reuse interval.
	leeway time.Duration

	key     *logintest.Signer
	devices *logintest.Devices
	codes   logintest.AuthCodes

	mu        sync.Mutex
	now       time.Time
	audiences map[string][]string // endpoint → the audience of each request
	expired   map[string]bool     // device codes that have answered expired_token
	refresh   map[string]*family  // every refresh token issued → its family
	tokens    map[string]string   // access token → audience
	slowDowns []int
	polls     int
}

// family is a refresh token's rotation family: the live token, and the
// one exchanged last with when and for what.
type family struct {
	scope, audience string
	revoked         bool
	current         string // the live refresh token
	previous        string // the one just exchanged, reusable within leeway
	rotatedAt       time.Time
	pair            []byte // the response the previous token got
}

func newFakeAuth0(t *testing.T, configure func(*fakeAuth0)) *fakeAuth0 {
	f := &fakeAuth0{
		t: t, clientID: "k8VxR2mQ7pL4sT9wZ1yB3nC6dF0gH5jA", grants: []string{grantDevice, grantCode, grantRefresh},
		offline: true, leeway: 10 * time.Second, key: logintest.NewSigner(t), devices: logintest.NewDevices(t),
		now: time.Now(), audiences: map[string][]string{}, expired: map[string]bool{}, refresh: map[string]*family{}, tokens: map[string]string{},
	}
	if configure != nil {
		configure(f)
	}
	mux := http.NewServeMux()
	f.Server = logintest.NewServer(t, mux)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.json(w, http.StatusOK, "openid-configuration.json", map[string]string{"$ISSUER_SLASH": f.issuer(), "$BASE": f.URL})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", f.key.JWKS)
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("POST /oauth/device/code", f.deviceCode)
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /userinfo", f.userinfo)
	return f
}

// issuer is the tenant's issuer, with Auth0's trailing slash.
func (f *fakeAuth0) issuer() string { return f.URL + "/" }

func (f *fakeAuth0) set(change func(*fakeAuth0)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// advance moves the tenant's clock.
func (f *fakeAuth0) advance(d time.Duration) { f.set(func(f *fakeAuth0) { f.now = f.now.Add(d) }) }

func (f *fakeAuth0) audienceSeen(endpoint string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.audiences[endpoint])
}

func (f *fakeAuth0) json(w http.ResponseWriter, status int, name string, vars map[string]string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(logintest.Canned(f.t, name, vars))
}

// fail answers an Auth0 token endpoint error: 403, or 429 for slow_down.
func (f *fakeAuth0) fail(w http.ResponseWriter, name string, vars map[string]string) {
	status := http.StatusForbidden
	if name == "slow_down" {
		status = http.StatusTooManyRequests
	}
	f.json(w, status, "errors/"+name+".json", vars)
}

// request checks what every endpoint checks: the client, the grant type
// enabled for it, and an audience naming a registered API. It records the
// audience.
func (f *fakeAuth0) request(w http.ResponseWriter, endpoint, grant, clientID, audience string) bool {
	f.mu.Lock()
	f.audiences[endpoint] = append(f.audiences[endpoint], audience)
	enabled := slices.Contains(f.grants, grant)
	f.mu.Unlock()
	switch {
	case clientID != f.clientID:
		f.json(w, http.StatusUnauthorized, "errors/access_denied.json", nil)
	case !enabled:
		f.fail(w, "unauthorized_client", map[string]string{"$GRANT": grant})
	case audience != "" && audience != testAPI:
		f.fail(w, "access_denied_audience", map[string]string{"$AUDIENCE": audience})
	default:
		return true
	}
	return false
}

func (f *fakeAuth0) deviceCode(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if !f.request(w, "device", grantDevice, r.PostForm.Get("client_id"), r.PostForm.Get("audience")) {
		return
	}
	dc, uc := f.devices.Start(r.PostForm.Get("scope"), r.PostForm.Get("audience"))
	f.json(w, http.StatusOK, "device_code.json", map[string]string{"$DEVICE_CODE": dc, "$USER_CODE": uc, "$BASE": f.URL})
}

func (f *fakeAuth0) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	form := r.PostForm
	if !f.request(w, "token", form.Get("grant_type"), form.Get("client_id"), form.Get("audience")) {
		return
	}
	switch form.Get("grant_type") {
	case grantDevice:
		dc := form.Get("device_code")
		d, known := f.devices.Get(dc)
		f.mu.Lock()
		f.polls++
		slow := slices.Contains(f.slowDowns, f.polls)
		spent := f.expired[dc]
		if known && d.Expired {
			f.expired[dc] = true
		}
		f.mu.Unlock()
		switch {
		case !known || spent:
			f.fail(w, "invalid_grant_device", nil)
		case d.Expired:
			f.fail(w, "expired_token", nil)
		case d.Denied:
			f.fail(w, "access_denied", nil)
		case slow:
			f.fail(w, "slow_down", nil)
		case !d.Approved:
			f.fail(w, "authorization_pending", nil)
		default:
			// Devices keeps the audience of the device request as Issuer.
			w.Header().Set("Content-Type", "application/json")
			w.Write(f.issue(d.Scope, d.Issuer, nil))
		}
	case grantCode:
		c, ok := f.codes.Redeem(form.Get("code"))
		switch {
		case !ok || form.Get("redirect_uri") != c.RedirectURI:
			f.fail(w, "invalid_grant_code", nil)
		case !c.Verifies(form.Get("code_verifier")):
			f.fail(w, "invalid_grant_verifier", nil)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Write(f.issue(c.Scope, c.Issuer, nil))
		}
	case grantRefresh:
		f.refreshGrant(w, form.Get("refresh_token"))
	}
}

// refreshGrant rotates: the live token gets a new pair; the previous one,
// within the reuse interval, gets the same pair again; anything else is
// reuse, which revokes the family.
func (f *fakeAuth0) refreshGrant(w http.ResponseWriter, rt string) {
	f.mu.Lock()
	fam := f.refresh[rt]
	var again []byte
	switch {
	case fam == nil || fam.revoked:
		fam = nil
	case rt == fam.previous && f.now.Sub(fam.rotatedAt) <= f.leeway:
		again = fam.pair
	case rt != fam.current:
		fam.revoked = true
		fam = nil
	}
	f.mu.Unlock()
	switch {
	case fam == nil:
		f.fail(w, "invalid_grant_refresh", nil)
	case again != nil:
		w.Header().Set("Content-Type", "application/json")
		w.Write(again)
	default:
		body := f.issue(fam.scope, fam.audience, fam)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

// issue makes a token response: a JWT-shaped access token for an API
// audience, an opaque one without; a refresh token for offline_access when
// the API allows offline access; an ID token for openid. fam, when set, is
// the family a refresh rotates.
func (f *fakeAuth0) issue(scope, audience string, fam *family) []byte {
	scopes := strings.Fields(scope)
	at := logintest.RandomString()
	if audience != "" {
		at = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + at
	}
	vars := map[string]string{"$ACCESS_TOKEN": at, "$SCOPE": scope, "$ID_TOKEN": "", "$REFRESH_FIELD": ""}
	if slices.Contains(scopes, "openid") {
		vars["$ID_TOKEN"] = f.idToken()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[at] = audience
	rotation := fam != nil
	if slices.Contains(scopes, "offline_access") && f.offline {
		rt := "v1." + logintest.RandomString()
		vars["$REFRESH_FIELD"] = `,"refresh_token":"` + rt + `"`
		if !rotation {
			fam = &family{scope: scope, audience: audience}
		}
		fam.previous, fam.rotatedAt, fam.current = fam.current, f.now, rt
		f.refresh[rt] = fam
	}
	body := logintest.Canned(f.t, "token.json", vars)
	if rotation {
		fam.pair = body
	}
	return body
}

func (f *fakeAuth0) idToken() string {
	now := time.Now().Unix()
	return f.key.IDToken(map[string]any{
		"iss": f.issuer(), "sub": "auth0|64f1c0ffee00badc0de00042", "aud": f.clientID, "iat": now, "exp": now + 36000,
		"name": "Alice Example", "nickname": "alice", "sid": logintest.RandomString(),
	})
}

// userinfo accepts any access token the tenant issued, opaque or not.
func (f *fakeAuth0) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	_, known := f.tokens[tok]
	f.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Auth0", error="invalid_token", error_description="Invalid access token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.json(w, http.StatusOK, "userinfo.json", nil)
}

// authorize is the browser leg: the fake user signs in and consents at
// once. The audience is remembered with the code.
func (f *fakeAuth0) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ru, ok := logintest.LoopbackRedirect(q.Get("redirect_uri"))
	if q.Get("client_id") != f.clientID || !ok {
		http.Error(w, "Callback URL mismatch. The provided redirect_uri is not in the list of allowed callback URLs.", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.audiences["authorize"] = append(f.audiences["authorize"], q.Get("audience"))
	f.mu.Unlock()
	back := url.Values{"state": {q.Get("state")}}
	switch {
	case q.Get("response_type") != "code":
		back.Set("error", "unsupported_response_type")
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		back.Set("error", "invalid_request")
	case q.Get("audience") != "" && q.Get("audience") != testAPI:
		back.Set("error", "access_denied")
		back.Set("error_description", "Service not found: "+q.Get("audience"))
	default:
		back.Set("code", f.codes.Issue(logintest.AuthCode{
			RedirectURI: q.Get("redirect_uri"), Challenge: q.Get("code_challenge"), Scope: q.Get("scope"), Issuer: q.Get("audience"),
		}))
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}
