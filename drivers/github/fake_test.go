package github_test

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

// fakeGitHub reproduces GitHub's documented login wire behaviour on a
// loopback httptest server: the fixed /login/... endpoints, form-encoded
// replies unless the request sends Accept: application/json, errors with
// HTTP 200, comma-separated scopes, the device flow, the web flow with PKCE
// S256, refresh-token rotation for GitHub Apps and for OAuth Apps with
// expiring tokens, and GET /api/v3/user. It checks what GitHub checks, so a
// driver that sends the wrong thing fails: GitHub does not tell public from
// confidential clients, so the code exchange needs client_secret even with
// PKCE, and so does the refresh of a token that came from the web flow;
// the device flow and the refresh of its tokens need none.
type fakeGitHub struct {
	*logintest.Server
	t *testing.T

	clientID string
	// secret is the app's client secret, required on every code exchange
	// and on the refresh of web-flow tokens (never on the device flow).
	secret string
	// githubApp: tokens expire (8 h) and come with rotating refresh tokens;
	// otherwise OAuth App tokens: no expiry, no refresh token, unless
	// expiring is set.
	githubApp bool
	// expiring: an OAuth App with the token expiration setting on: 8 h
	// tokens with rotating refresh tokens, as a GitHub App's.
	expiring bool
	// deviceFlowDisabled: the app has not enabled the device flow.
	deviceFlowDisabled bool
	// formOnly ignores Accept and always answers form-encoded (to prove the
	// driver reads both encodings on every endpoint).
	formOnly bool
	// slowDownPolls are the poll numbers (1-based) answered with slow_down.
	slowDownPolls []int
	// script, if set, answers every token request with this canned error.
	script string

	devices *logintest.Devices
	codes   logintest.AuthCodes

	mu       sync.Mutex
	interval int               // the device flow's current interval, seconds
	refresh  map[string]origin // live refresh tokens
	tokens   map[string]string // access token → granted scope
	polls    int
	// secretOnDevice records a client secret seen on a device-flow request.
	secretOnDevice bool
}

func newFakeGitHub(t *testing.T, configure func(*fakeGitHub)) *fakeGitHub {
	f := &fakeGitHub{
		t: t, clientID: "Iv1.0123456789abcdef", secret: "s3cret", interval: 5, devices: logintest.NewDevices(t),
		refresh: map[string]origin{}, tokens: map[string]string{},
	}
	if configure != nil {
		configure(f)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/device/code", f.deviceCode)
	mux.HandleFunc("POST /login/oauth/access_token", f.accessToken)
	mux.HandleFunc("GET /login/oauth/authorize", f.authorize)
	mux.HandleFunc("GET /api/v3/user", f.user)
	f.Server = logintest.NewServer(t, mux)
	return f
}

// set changes the fake's behaviour while it serves.
func (f *fakeGitHub) set(change func(*fakeGitHub)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// reply renders a canned body: JSON when the request asked for it (and
// formOnly is off), else form-encoded like GitHub's default. Always 200.
func (f *fakeGitHub) reply(w http.ResponseWriter, r *http.Request, name string, vars map[string]string) {
	body := logintest.Canned(f.t, name, vars)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Accept"))
	if ct == "application/json" && !f.formOnly {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(body)
		return
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		f.t.Errorf("testdata %s: %v", name, err)
	}
	form := url.Values{}
	for k, v := range raw {
		form.Set(k, fmt.Sprint(v))
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.Write([]byte(form.Encode()))
}

func (f *fakeGitHub) fail(w http.ResponseWriter, r *http.Request, code string) {
	f.mu.Lock()
	interval := f.interval
	f.mu.Unlock()
	f.reply(w, r, "errors/"+code+".json", map[string]string{"$INTERVAL": fmt.Sprint(interval)})
}

func (f *fakeGitHub) deviceCode(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.noteDeviceSecret(r)
	f.mu.Lock()
	disabled := f.deviceFlowDisabled
	f.mu.Unlock()
	if r.PostForm.Get("client_id") != f.clientID {
		f.fail(w, r, "incorrect_client_credentials")
		return
	}
	if disabled {
		f.fail(w, r, "device_flow_disabled")
		return
	}
	dc, uc := f.devices.Start(r.PostForm.Get("scope"), "")
	f.reply(w, r, "device_code.json", map[string]string{"$DEVICE_CODE": dc, "$USER_CODE": uc, "$BASE": f.URL})
}

func (f *fakeGitHub) accessToken(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	form := r.PostForm
	f.mu.Lock()
	script := f.script
	f.mu.Unlock()
	if script != "" {
		f.fail(w, r, script)
		return
	}
	if form.Get("client_id") != f.clientID {
		f.fail(w, r, "incorrect_client_credentials")
		return
	}
	switch form.Get("grant_type") {
	case provider.GrantTypeDeviceCode:
		f.pollDevice(w, r)
	case "", provider.GrantTypeAuthorizationCode: // GitHub's web flow needs no grant_type
		f.exchange(w, r)
	case provider.GrantTypeRefreshToken:
		f.refreshToken(w, r)
	default:
		f.fail(w, r, "unsupported_grant_type")
	}
}

// noteDeviceSecret records a client secret on a device-flow request: the
// device flow is for public clients and GitHub needs none.
func (f *fakeGitHub) noteDeviceSecret(r *http.Request) {
	_, _, basic := r.BasicAuth()
	if basic || r.PostForm.Has("client_secret") {
		f.mu.Lock()
		f.secretOnDevice = true
		f.mu.Unlock()
	}
}

func (f *fakeGitHub) pollDevice(w http.ResponseWriter, r *http.Request) {
	f.noteDeviceSecret(r)
	d, known := f.devices.Get(r.PostForm.Get("device_code"))
	f.mu.Lock()
	f.polls++
	var code string
	switch {
	case f.deviceFlowDisabled:
		code = "device_flow_disabled"
	case !known:
		code = "incorrect_device_code"
	case d.Expired:
		code = "expired_token"
	case d.Denied:
		code = "access_denied"
	case slices.Contains(f.slowDownPolls, f.polls):
		f.interval += 5 // GitHub adds 5 s and sends the new interval
		code = "slow_down"
	case !d.Approved:
		code = "authorization_pending"
	}
	f.mu.Unlock()
	if code != "" {
		f.fail(w, r, code)
		return
	}
	f.issue(w, r, d.Scope, origin{device: true, scope: d.Scope})
}

// origin is what GitHub remembers of a refresh token: whether its grant
// began with the device flow, whose refreshes need no client secret.
type origin struct {
	device bool
	scope  string // granted at login, granted again on refresh
}

// grantedScope is what GitHub reports: the scopes, comma-separated, in its
// own (here: sorted) order.
func grantedScope(requested string) string {
	s := strings.Fields(requested)
	slices.Sort(s)
	return strings.Join(s, ",")
}

func (f *fakeGitHub) issue(w http.ResponseWriter, r *http.Request, scope string, o origin) {
	at := "gho_" + logintest.RandomString()
	vars := map[string]string{"$ACCESS_TOKEN": at, "$SCOPE": grantedScope(scope)}
	name := "token_oauth_app.json"
	switch {
	case f.githubApp:
		name = "token_github_app.json"
		at = "ghu_" + logintest.RandomString()
	case f.expiring:
		name = "token_oauth_app_expiring.json"
	}
	vars["$ACCESS_TOKEN"] = at
	if f.githubApp || f.expiring {
		vars["$REFRESH_TOKEN"] = "ghr_" + logintest.RandomString()
		f.mu.Lock()
		f.refresh[vars["$REFRESH_TOKEN"]] = o
		f.mu.Unlock()
	}
	f.mu.Lock()
	f.tokens[at] = vars["$SCOPE"]
	f.mu.Unlock()
	f.reply(w, r, name, vars)
}

func (f *fakeGitHub) checkSecret(r *http.Request) bool {
	return r.PostForm.Get("client_secret") == f.secret
}

func (f *fakeGitHub) exchange(w http.ResponseWriter, r *http.Request) {
	form := r.PostForm
	if !f.checkSecret(r) { // PKCE or not: GitHub has no public clients
		f.fail(w, r, "incorrect_client_credentials")
		return
	}
	c, ok := f.codes.Redeem(form.Get("code"))
	switch {
	case !ok:
		f.fail(w, r, "bad_verification_code")
	case form.Get("redirect_uri") != c.RedirectURI:
		f.fail(w, r, "redirect_uri_mismatch")
	case !c.Verifies(form.Get("code_verifier")):
		f.fail(w, r, "bad_verification_code")
	default:
		f.issue(w, r, c.Scope, origin{scope: c.Scope})
	}
}

// refreshToken: client_secret is required "unless the token was generated
// with the device flow" (GitHub docs, refreshing user access tokens).
func (f *fakeGitHub) refreshToken(w http.ResponseWriter, r *http.Request) {
	rt := r.PostForm.Get("refresh_token")
	f.mu.Lock()
	o, ok := f.refresh[rt]
	f.mu.Unlock()
	if ok && !o.device && !f.checkSecret(r) {
		f.fail(w, r, "incorrect_client_credentials")
		return
	}
	f.mu.Lock()
	delete(f.refresh, rt) // rotation: the old refresh token is spent
	f.mu.Unlock()
	if !ok {
		f.fail(w, r, "bad_refresh_token")
		return
	}
	f.issue(w, r, o.scope, o)
}

// authorize is the browser leg: GitHub shows a consent page; the fake user
// consents at once and GitHub redirects to the loopback callback. GitHub
// accepts any port on a 127.0.0.1 callback registered without one.
func (f *fakeGitHub) authorize(w http.ResponseWriter, r *http.Request) {
	a := logintest.ReadAuthorize(r)
	switch rt := a.Query.Get("response_type"); {
	case !a.ClientIs(f.clientID):
		http.Error(w, "unknown client_id", http.StatusNotFound)
	case a.Redirect == nil:
		http.Error(w, "redirect_uri is not the registered callback", http.StatusBadRequest)
	case !a.HasS256():
		http.Error(w, "code_challenge_method must be S256", http.StatusBadRequest)
	case rt != "" && rt != "code":
		http.Error(w, "unsupported response_type", http.StatusBadRequest)
	default:
		a.RedirectBack(w, r, url.Values{"code": {a.Issue(&f.codes, "scope", "")}})
	}
}

func (f *fakeGitHub) user(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	scope, known := f.tokens[tok]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if !ok || !known {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write(logintest.Canned(f.t, "bad_credentials.json", nil))
		return
	}
	w.Header().Set("X-OAuth-Scopes", strings.ReplaceAll(scope, ",", ", "))
	w.Write(logintest.Canned(f.t, "user.json", nil))
}
