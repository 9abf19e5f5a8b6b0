package google_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/drivers/google"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

// fakeGoogle reproduces Google's authorization server on a loopback
// httptest server, as documented: OpenID discovery only; a token endpoint
// that wants the client secret (Basic or in the form) from every client,
// PKCE or not; the device grant for the limited scopes only, with a
// verification_url, polling errors under non-standard statuses (428
// authorization_pending, 403 slow_down and access_denied) and a quota
// refusal carrying only error_code; refresh tokens that do not rotate;
// loopback redirects on 127.0.0.1 or [::1], any port; RS256 ID tokens.
type fakeGoogle struct {
	*logintest.Server
	t *testing.T

	clientID, secret string
	// schemelessIssuer: ID tokens say iss "HOST:PORT" without the scheme,
	// as Google's sometimes say accounts.google.com.
	schemelessIssuer bool
	// pollErrors are answered to the polls, in turn, before the real answer.
	pollErrors []string

	key     *logintest.Signer
	devices *logintest.Devices
	codes   logintest.AuthCodes

	mu      sync.Mutex
	refresh map[string]string // refresh token → scope
	polls   int
}

// pollStatus are Google's statuses for the polling errors.
var pollStatus = map[string]int{
	"authorization_pending": 428, "slow_down": 403, "access_denied": 403, "org_internal": 403,
	"rate_limit_exceeded": 403, "invalid_client": 401,
}

func newFakeGoogle(t *testing.T, configure func(*fakeGoogle)) *fakeGoogle {
	f := &fakeGoogle{t: t, clientID: "1234567890-abcdefg.apps.googleusercontent.com", secret: "GOCSPX-fake-secret",
		key: logintest.NewSigner(t), devices: logintest.NewDevices(t), refresh: map[string]string{}}
	if configure != nil {
		configure(f)
	}
	mux := http.NewServeMux()
	f.Server = logintest.NewServer(t, mux)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.json(w, 200, "openid-configuration.json", map[string]string{"$ISSUER": f.URL, "$BASE": f.URL})
	})
	mux.HandleFunc("POST /device/code", f.deviceCode)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("GET /o/oauth2/v2/auth", f.authorize)
	mux.HandleFunc("GET /oauth2/v3/certs", f.key.JWKS)
	return f
}

func (f *fakeGoogle) json(w http.ResponseWriter, status int, name string, vars map[string]string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(logintest.Canned(f.t, name, vars))
}

func (f *fakeGoogle) fail(w http.ResponseWriter, code string) {
	status, ok := pollStatus[code]
	if !ok {
		status = 400
	}
	f.json(w, status, "errors/"+code+".json", nil)
}

// client checks the client ID and secret, from Basic or the form.
func (f *fakeGoogle) client(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id == f.clientID && secret == f.secret
}

func (f *fakeGoogle) deviceCode(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if r.PostForm.Get("client_id") != f.clientID {
		f.fail(w, "invalid_client")
		return
	}
	for _, s := range strings.Fields(r.PostForm.Get("scope")) {
		if !slices.Contains(google.DeviceScopes, s) {
			f.fail(w, "invalid_scope")
			return
		}
	}
	dc, uc := f.devices.Start(r.PostForm.Get("scope"), "")
	f.json(w, 200, "device_code.json", map[string]string{"$DEVICE_CODE": dc, "$USER_CODE": uc})
}

func (f *fakeGoogle) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if !f.client(r) {
		f.fail(w, "invalid_client")
		return
	}
	form := r.PostForm
	switch form.Get("grant_type") {
	case provider.GrantTypeDeviceCode:
		f.mu.Lock()
		f.polls++
		var injected string
		if len(f.pollErrors) > 0 {
			injected, f.pollErrors = f.pollErrors[0], f.pollErrors[1:]
		}
		f.mu.Unlock()
		d, known := f.devices.Get(form.Get("device_code"))
		switch {
		case injected != "":
			f.fail(w, injected)
		case !known:
			f.fail(w, "invalid_grant")
		case d.Expired:
			f.fail(w, "expired_token")
		case d.Denied:
			f.fail(w, "access_denied")
		case !d.Approved:
			f.fail(w, "authorization_pending")
		default:
			f.issue(w, d.Scope, true)
		}
	case provider.GrantTypeAuthorizationCode:
		c, ok := f.codes.Redeem(form.Get("code"))
		switch {
		case !ok || form.Get("redirect_uri") != c.RedirectURI || !c.Verifies(form.Get("code_verifier")):
			f.fail(w, "invalid_grant")
		default:
			f.issue(w, c.Scope, true)
		}
	case provider.GrantTypeRefreshToken:
		f.mu.Lock()
		scope, ok := f.refresh[form.Get("refresh_token")]
		f.mu.Unlock()
		if !ok {
			f.fail(w, "invalid_grant_refresh")
			return
		}
		f.issue(w, scope, false)
	default:
		f.fail(w, "invalid_grant")
	}
}

// issue answers a token response; a refresh answers no new refresh token.
func (f *fakeGoogle) issue(w http.ResponseWriter, scope string, withRefresh bool) {
	vars := map[string]string{"$ACCESS_TOKEN": "ya29." + logintest.RandomString(), "$SCOPE": scope, "$ID_TOKEN": f.idToken()}
	name := "token_refreshed.json"
	if withRefresh {
		name = "token.json"
		vars["$REFRESH_TOKEN"] = "1//0g" + logintest.RandomString()
		f.mu.Lock()
		f.refresh[vars["$REFRESH_TOKEN"]] = scope
		f.mu.Unlock()
	}
	f.json(w, 200, name, vars)
}

func (f *fakeGoogle) idToken() string {
	iss := f.URL
	if f.schemelessIssuer {
		iss = strings.TrimPrefix(f.URL, "http://")
	}
	return f.signIDToken(iss)
}

func (f *fakeGoogle) signIDToken(iss string) string {
	now := time.Now().Unix()
	return f.key.IDToken(map[string]any{"iss": iss, "azp": f.clientID, "aud": f.clientID, "sub": "110169484474386276334",
		"email": "alice@example.com", "email_verified": true, "name": "Alice Example", "iat": now, "exp": now + 3600})
}

// authorize is the browser leg: loopback redirects on 127.0.0.1 or [::1].
func (f *fakeGoogle) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ru, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != f.clientID || err != nil || ru.Scheme != "http" || (ru.Hostname() != "127.0.0.1" && ru.Hostname() != "::1") || ru.Path != login.DefaultCallbackPath {
		http.Error(w, "Error 400: redirect_uri_mismatch", http.StatusBadRequest)
		return
	}
	back := ru.Query()
	back.Set("state", q.Get("state"))
	if q.Get("code_challenge_method") != "S256" {
		back.Set("error", "invalid_request")
	} else {
		back.Set("code", f.codes.Issue(logintest.AuthCode{RedirectURI: q.Get("redirect_uri"), Challenge: q.Get("code_challenge"), Scope: q.Get("scope")}))
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}
