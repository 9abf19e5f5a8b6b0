package gitlab_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

// fakeGitLab reproduces a GitLab instance on a loopback httptest server,
// issuer BASE (as on gitlab.com: no trailing slash, no path): OpenID and
// RFC 8414 discovery documents that do not list the device endpoint (as
// gitlab.com's do not), /oauth/authorize_device (or a 404 for instances
// without the device grant), /oauth/token with Doorkeeper's error bodies,
// refresh that rotates both tokens, RS256 ID tokens for openid, and
// GET /api/v4/user with GitLab's refusals: 401 invalid_token for a spent
// token, 403 with an insufficient_scope JSON body and no WWW-Authenticate
// header for a token without a scope that reads the user.
type fakeGitLab struct {
	*logintest.Server
	t *testing.T

	clientID string
	// confidential: the application is marked confidential, so a client
	// without a secret is refused, as GitLab does.
	confidential bool
	// noDevice: the instance predates the device grant (or has
	// oauth2_device_grant_flow off): /oauth/authorize_device is a 404.
	noDevice bool
	// listsDevice: the discovery documents list the device endpoint.
	listsDevice bool

	key     *logintest.Signer
	devices *logintest.Devices
	codes   logintest.AuthCodes

	mu        sync.Mutex
	refresh   map[string]*grant // live refresh tokens
	access    map[string]*grant // live access tokens
	slowDowns []int
	polls     int
}

type grant struct {
	scope   string
	access  string // the access token issued with a refresh token
	expires time.Time
}

func newFakeGitLab(t *testing.T, configure func(*fakeGitLab)) *fakeGitLab {
	f := &fakeGitLab{
		t: t, clientID: "3f2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b", key: logintest.NewSigner(t),
		devices: logintest.NewDevices(t), refresh: map[string]*grant{}, access: map[string]*grant{},
	}
	if configure != nil {
		configure(f)
	}
	mux := http.NewServeMux()
	f.Server = logintest.NewServer(t, mux)
	mux.HandleFunc("GET /.well-known/openid-configuration", f.metadata)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", f.metadata)
	mux.HandleFunc("GET /oauth/discovery/keys", f.key.JWKS)
	mux.HandleFunc("GET /oauth/authorize", f.authorize)
	mux.HandleFunc("POST /oauth/authorize_device", f.deviceAuthorize)
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /oauth/userinfo", f.userinfo)
	mux.HandleFunc("GET /api/v4/user", f.user)
	return f
}

func (f *fakeGitLab) set(change func(*fakeGitLab)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeGitLab) metadata(w http.ResponseWriter, r *http.Request) {
	body := logintest.Canned(f.t, "openid-configuration.json", map[string]string{"$ISSUER": f.URL})
	if f.listsDevice {
		var m map[string]any
		json.Unmarshal(body, &m)
		m["device_authorization_endpoint"] = f.URL + "/oauth/authorize_device"
		body, _ = json.Marshal(m)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (f *fakeGitLab) json(w http.ResponseWriter, status int, name string, vars map[string]string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(logintest.Canned(f.t, name, vars))
}

// fail answers a Doorkeeper error: invalid_client is a 401, the rest 400.
func (f *fakeGitLab) fail(w http.ResponseWriter, code string) {
	status := http.StatusBadRequest
	if code == "invalid_client" {
		status = http.StatusUnauthorized
	}
	f.json(w, status, "errors/"+code+".json", nil)
}

// client checks the client as GitLab does: a known application, and a
// non-confidential one, since the driver sends no secret.
func (f *fakeGitLab) client(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	confidential := f.confidential
	f.mu.Unlock()
	if r.PostForm.Get("client_id") != f.clientID || confidential {
		f.fail(w, "invalid_client")
		return false
	}
	return true
}

func (f *fakeGitLab) deviceAuthorize(w http.ResponseWriter, r *http.Request) {
	if f.noDevice {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write(logintest.Canned(f.t, "errors/not_found.html", nil))
		return
	}
	r.ParseForm()
	if !f.client(w, r) {
		return
	}
	dc, uc := f.devices.Start(r.PostForm.Get("scope"), "")
	f.json(w, http.StatusOK, "device_authorize.json", map[string]string{"$DEVICE_CODE": dc, "$USER_CODE": uc, "$ISSUER": f.URL})
}

func (f *fakeGitLab) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if !f.client(w, r) {
		return
	}
	form := r.PostForm
	switch form.Get("grant_type") {
	case provider.GrantTypeDeviceCode:
		d, known := f.devices.Get(form.Get("device_code"))
		f.mu.Lock()
		f.polls++
		slow := slices.Contains(f.slowDowns, f.polls)
		f.mu.Unlock()
		switch {
		case !known:
			f.fail(w, "invalid_grant")
		case d.Expired:
			f.fail(w, "expired_token")
		case d.Denied:
			f.fail(w, "access_denied")
		case slow:
			f.fail(w, "slow_down")
		case !d.Approved:
			f.fail(w, "authorization_pending")
		default:
			f.issue(w, d.Scope)
		}
	case provider.GrantTypeAuthorizationCode:
		c, ok := f.codes.Redeem(form.Get("code"))
		if !ok || form.Get("redirect_uri") != c.RedirectURI || !c.Verifies(form.Get("code_verifier")) {
			f.fail(w, "invalid_grant")
			return
		}
		f.issue(w, c.Scope)
	case provider.GrantTypeRefreshToken:
		rt := form.Get("refresh_token")
		f.mu.Lock()
		g := f.refresh[rt]
		if g != nil {
			// Rotation: the refresh token and its access token are spent.
			delete(f.refresh, rt)
			delete(f.access, g.access)
		}
		f.mu.Unlock()
		if g == nil {
			f.fail(w, "invalid_grant")
			return
		}
		f.issue(w, g.scope)
	default:
		f.json(w, http.StatusBadRequest, "errors/invalid_grant.json", nil)
	}
}

// issue answers a token response: a two-hour access token, a refresh
// token, and an ID token for openid.
func (f *fakeGitLab) issue(w http.ResponseWriter, scope string) {
	g := &grant{scope: scope, access: logintest.RandomString() + logintest.RandomString(), expires: time.Now().Add(2 * time.Hour)}
	rt := logintest.RandomString() + logintest.RandomString()
	vars := map[string]string{"$ACCESS_TOKEN": g.access, "$REFRESH_TOKEN": rt, "$SCOPE": scope, "$ID_TOKEN_FIELD": ""}
	if slices.Contains(strings.Fields(scope), "openid") {
		vars["$ID_TOKEN_FIELD"] = `,"id_token":"` + f.idToken() + `"`
	}
	f.mu.Lock()
	f.refresh[rt] = g
	f.access[g.access] = g
	f.mu.Unlock()
	f.json(w, http.StatusOK, "token.json", vars)
}

func (f *fakeGitLab) idToken() string {
	now := time.Now().Unix()
	return f.key.IDToken(map[string]any{
		"iss": f.URL, "sub": "4242", "aud": f.clientID, "iat": now, "exp": now + 120, "auth_time": now,
		"sub_legacy": "5d1f3b0c9e8a7f6b", "name": "Alice Example", "nickname": "alice", "preferred_username": "alice",
	})
}

// bearer returns the live grant of the request's access token, or answers
// GitLab's 401 itself.
func (f *fakeGitLab) bearer(w http.ResponseWriter, r *http.Request) *grant {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		f.json(w, http.StatusUnauthorized, "api/unauthorized.json", nil)
		return nil
	}
	f.mu.Lock()
	g := f.access[tok]
	f.mu.Unlock()
	switch {
	case g == nil:
		w.Header().Set("WWW-Authenticate", `Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="Token was revoked. You have to re-authorize from the user."`)
		f.json(w, http.StatusUnauthorized, "api/invalid_token_revoked.json", nil)
		return nil
	case time.Now().After(g.expires):
		w.Header().Set("WWW-Authenticate", string(logintest.Canned(f.t, "api/invalid_token_expired.header", nil)))
		f.json(w, http.StatusUnauthorized, "api/invalid_token_expired.json", nil)
		return nil
	}
	return g
}

// user is GET /api/v4/user: api, read_api or read_user reads it; any other
// token gets the 403 JSON refusal, without WWW-Authenticate.
func (f *fakeGitLab) user(w http.ResponseWriter, r *http.Request) {
	g := f.bearer(w, r)
	if g == nil {
		return
	}
	if !slices.ContainsFunc(strings.Fields(g.scope), func(s string) bool { return s == "api" || s == "read_api" || s == "read_user" }) {
		f.json(w, http.StatusForbidden, "api/insufficient_scope.json", map[string]string{"$SCOPE": "api read_api read_user"})
		return
	}
	f.json(w, http.StatusOK, "api/user.json", nil)
}

func (f *fakeGitLab) userinfo(w http.ResponseWriter, r *http.Request) {
	if g := f.bearer(w, r); g != nil {
		f.json(w, http.StatusOK, "userinfo.json", nil)
	}
}

// authorize is the browser leg: the fake user signs in and authorizes at
// once. Like Doorkeeper it refuses an unknown client or redirect URI with a
// page, and PKCE is optional per request (S256 or plain) but checked at
// the token endpoint when it was sent.
func (f *fakeGitLab) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ru, ok := logintest.LoopbackRedirect(q.Get("redirect_uri"))
	if q.Get("client_id") != f.clientID || !ok {
		http.Error(w, "The redirect URI included is not valid.", http.StatusBadRequest)
		return
	}
	back := ru.Query()
	back.Set("state", q.Get("state"))
	switch {
	case q.Get("response_type") != "code":
		back.Set("error", "unsupported_response_type")
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		back.Set("error", "invalid_request")
		back.Set("error_description", "The request is missing a required parameter: code_challenge.")
	default:
		back.Set("code", f.codes.Issue(logintest.AuthCode{RedirectURI: q.Get("redirect_uri"), Challenge: q.Get("code_challenge"), Scope: q.Get("scope")}))
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}
