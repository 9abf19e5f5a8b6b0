package slack_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// fakeSlack reproduces Slack's OAuth v2 user-token flow on a loopback
// httptest server: /oauth/v2/authorize (user_scope, PKCE S256, no bot
// scopes for a PKCE app), /api/oauth.v2.access (authed_user nesting,
// comma-separated scopes, ok:false errors with HTTP 200, refresh with
// rotation that revokes the refresh token used), auth.test, and one Web API
// method that answers missing_scope. It checks what Slack checks.
type fakeSlack struct {
	*httptest.Server
	t *testing.T

	clientID string
	// secret, when set, is required on oauth.v2.access.
	secret string
	// rotation: token rotation is on (12 h tokens, refresh tokens).
	rotation bool

	mu       sync.Mutex
	codes    map[string]*authCode
	refresh  map[string]string   // live refresh token → scope
	tokens   map[string][]string // access token → scopes
	requests map[string]int
}

type authCode struct {
	redirectURI, challenge, scope string
}

func newFakeSlack(t *testing.T, configure func(*fakeSlack)) *fakeSlack {
	f := &fakeSlack{
		t: t, clientID: "1234567890.0987654321", rotation: true,
		codes: map[string]*authCode{}, refresh: map[string]string{},
		tokens: map[string][]string{}, requests: map[string]int{},
	}
	if configure != nil {
		configure(f)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/v2/authorize", f.authorize)
	mux.HandleFunc("POST /api/oauth.v2.access", f.access)
	mux.HandleFunc("POST /api/auth.test", f.authTest)
	mux.HandleFunc("POST /api/conversations.history", f.conversationsHistory)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests[r.URL.Path]++
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlack) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[path]
}

// reply writes a canned body with HTTP 200, as the Web API always does.
func (f *fakeSlack) reply(w http.ResponseWriter, name string, vars map[string]string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(canned(f.t, name, vars))
}

func (f *fakeSlack) fail(w http.ResponseWriter, code string) {
	f.reply(w, "errors/"+code+".json", nil)
}

// authorize is the browser leg: the fake user approves at once. Slack
// refuses bot scopes (scope=) for an app with PKCE enabled.
func (f *fakeSlack) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ru, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != f.clientID:
		http.Error(w, "invalid_client_id", http.StatusBadRequest)
		return
	case err != nil || ru.Scheme != "http" || ru.Hostname() != "127.0.0.1" || ru.Path != "/callback":
		http.Error(w, "bad_redirect_uri", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE apps must send code_challenge with code_challenge_method=S256", http.StatusBadRequest)
		return
	}
	back := ru.Query()
	back.Set("state", q.Get("state"))
	switch {
	case q.Has("scope"):
		back.Set("error", "invalid_scope")
		back.Set("error_description", "apps using PKCE cannot request bot scopes")
	case q.Get("user_scope") == "":
		back.Set("error", "invalid_scope")
		back.Set("error_description", "no user_scope requested")
	default:
		code := random()
		f.mu.Lock()
		f.codes[code] = &authCode{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), scope: q.Get("user_scope")}
		f.mu.Unlock()
		back.Set("code", code)
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func (f *fakeSlack) access(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	form := r.PostForm
	switch {
	case form.Get("client_id") != f.clientID:
		f.fail(w, "invalid_client_id")
		return
	case f.secret != "" && form.Get("client_secret") != f.secret:
		f.fail(w, "bad_client_secret")
		return
	}
	switch form.Get("grant_type") {
	case "", provider.GrantTypeAuthorizationCode:
		f.mu.Lock()
		c := f.codes[form.Get("code")]
		delete(f.codes, form.Get("code"))
		f.mu.Unlock()
		switch {
		case c == nil:
			f.fail(w, "invalid_code")
		case form.Get("redirect_uri") != c.redirectURI:
			f.fail(w, "bad_redirect_uri")
		case s256(form.Get("code_verifier")) != c.challenge:
			f.fail(w, "invalid_code")
		default:
			f.issue(w, c.scope, false)
		}
	case provider.GrantTypeRefreshToken:
		rt := form.Get("refresh_token")
		f.mu.Lock()
		scope, ok := f.refresh[rt]
		delete(f.refresh, rt) // revoked on use
		f.mu.Unlock()
		if !ok {
			f.fail(w, "invalid_refresh_token")
			return
		}
		f.issue(w, scope, true)
	default:
		f.fail(w, "invalid_grant_type")
	}
}

// issue answers with a user token: nested under authed_user for a code,
// at the top level with token_type "user" for a refresh. Granted scopes are
// comma-separated, in Slack's (here: sorted) order.
func (f *fakeSlack) issue(w http.ResponseWriter, scope string, refreshed bool) {
	scopes := strings.Split(scope, ",")
	slices.Sort(scopes)
	vars := map[string]string{"$ACCESS_TOKEN": "xoxp-" + random(), "$SCOPE": strings.Join(scopes, ",")}
	name := "access_user_no_rotation.json"
	if f.rotation {
		vars["$ACCESS_TOKEN"] = "xoxe.xoxp-1-" + random()
		vars["$REFRESH_TOKEN"] = "xoxe-1-" + random()
		name = "access_user.json"
		if refreshed {
			name = "refresh_user.json"
		}
	}
	f.mu.Lock()
	f.tokens[vars["$ACCESS_TOKEN"]] = scopes
	if f.rotation {
		f.refresh[vars["$REFRESH_TOKEN"]] = scope
	}
	f.mu.Unlock()
	f.reply(w, name, vars)
}

func (f *fakeSlack) token(r *http.Request) ([]string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	defer f.mu.Unlock()
	scopes, known := f.tokens[tok]
	return scopes, ok && known
}

func (f *fakeSlack) authTest(w http.ResponseWriter, r *http.Request) {
	if _, ok := f.token(r); !ok {
		f.reply(w, "api/invalid_auth.json", nil)
		return
	}
	f.reply(w, "auth_test.json", nil)
}

// conversationsHistory needs channels:history, as Slack's does.
func (f *fakeSlack) conversationsHistory(w http.ResponseWriter, r *http.Request) {
	scopes, ok := f.token(r)
	switch {
	case !ok:
		f.reply(w, "api/invalid_auth.json", nil)
	case !slices.Contains(scopes, "channels:history"):
		f.reply(w, "missing_scope_reply.json", map[string]string{"$NEEDED": "channels:history", "$PROVIDED": strings.Join(scopes, ",")})
	default:
		f.reply(w, "conversations_history.json", nil)
	}
}

// canned reads testdata/name and substitutes vars.
func canned(t *testing.T, name string, vars map[string]string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Errorf("testdata: %v", err)
		return nil
	}
	s := strings.TrimSpace(string(b))
	for k, v := range vars {
		s = strings.ReplaceAll(s, k, v)
	}
	return []byte(s)
}

func random() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// browse does what a browser does with the authorization URL: it follows
// the redirects. It fails when they do not end at the loopback callback.
func browse(ctx context.Context, authURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.Request.URL.Path != provider.DefaultCallbackPath {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("browser stopped at %s: HTTP %d: %s", resp.Request.URL, resp.StatusCode, b)
	}
	return nil
}

// pkceLogin runs a login through provider.Login under preference pref with
// browse as the browser. A browser stopped before the callback ends the
// login at once.
func pkceLogin(t *testing.T, d provider.Driver, pref provider.GrantPreference, scopes []string) (*provider.Token, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	browserErr := make(chan error, 1)
	login := &provider.Login{
		Preference: pref,
		Env:        &provider.Environment{GOOS: "linux"}, // headless: auto would pick the device grant if there were one
		Loopback: provider.Loopback{Timeout: 20 * time.Second, Open: func(_ context.Context, u string) error {
			go func() {
				if err := browse(ctx, u); err != nil {
					browserErr <- err
					cancel()
				}
			}()
			return nil
		}},
		ShowDevice: func(context.Context, *provider.DeviceAuthorization) error {
			t.Error("Slack has no device grant, yet a device code was shown")
			return nil
		},
	}
	tok, err := login.Run(ctx, d, scopes)
	select {
	case berr := <-browserErr:
		return nil, fmt.Errorf("%w (browser: %v)", err, berr)
	default:
	}
	return tok, err
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
