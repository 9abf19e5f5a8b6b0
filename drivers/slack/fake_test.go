package slack_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

// fakeSlack reproduces Slack's OAuth v2 user-token flow on a loopback
// httptest server: /oauth/v2/authorize (user_scope, PKCE S256, no bot
// scopes for a PKCE app), /api/oauth.v2.access (authed_user nesting,
// comma-separated scopes, ok:false errors with HTTP 200, refresh with
// rotation that revokes the refresh token used), auth.test, and one Web API
// method that answers missing_scope. It checks what Slack checks: a PKCE
// app is a public client, so a client_secret on the PKCE exchange is
// refused; registered redirect URLs match exactly, port and host included
// (http://localhost:PORT/callback; 127.0.0.1 is another host to Slack).
type fakeSlack struct {
	*logintest.Server
	t *testing.T

	clientID string
	// port is the loopback port of the registered redirect URL, redirects
	// the registered redirect URLs, matched character for character.
	port      int
	redirects []string
	// anyLoopback also accepts http://127.0.0.1:ANY/callback: only for the
	// contract kit, whose loopback listener ignores the driver's
	// LoopbackHost and LoopbackPortFixed.
	anyLoopback bool
	// rotation: token rotation is on (12 h tokens, refresh tokens).
	rotation bool
	// badGrantType answers every refresh with invalid_grant_type.
	badGrantType bool

	codes logintest.AuthCodes

	mu      sync.Mutex
	refresh map[string]string   // live refresh token → scope
	tokens  map[string][]string // access token → scopes
}

func newFakeSlack(t *testing.T, configure func(*fakeSlack)) *fakeSlack {
	f := &fakeSlack{
		t: t, clientID: "1234567890.0987654321", rotation: true, port: logintest.FreePort(t),
		refresh: map[string]string{}, tokens: map[string][]string{},
	}
	f.redirects = []string{fmt.Sprintf("http://localhost:%d/callback", f.port)}
	if configure != nil {
		configure(f)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/v2/authorize", f.authorize)
	mux.HandleFunc("POST /api/oauth.v2.access", f.access)
	mux.HandleFunc("POST /api/auth.test", f.authTest)
	mux.HandleFunc("POST /api/conversations.history", f.conversationsHistory)
	f.Server = logintest.NewServer(t, mux)
	return f
}

// reply writes a canned body with HTTP 200, as the Web API always does.
func (f *fakeSlack) reply(w http.ResponseWriter, name string, vars map[string]string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(logintest.Canned(f.t, name, vars))
}

func (f *fakeSlack) fail(w http.ResponseWriter, code string) {
	f.reply(w, "errors/"+code+".json", nil)
}

// authorize is the browser leg: the fake user approves at once. Slack
// refuses bot scopes (scope=) on a desktop redirect of a PKCE app.
func (f *fakeSlack) authorize(w http.ResponseWriter, r *http.Request) {
	a := logintest.ReadAuthorize(r)
	loopback := f.anyLoopback && a.Redirect != nil
	if !loopback {
		a.Redirect = nil
	}
	switch {
	case !a.ClientIs(f.clientID):
		http.Error(w, "invalid_client_id", http.StatusBadRequest)
	case !loopback && !a.Registered(f.redirects):
		http.Error(w, "bad_redirect_uri", http.StatusBadRequest)
	case !a.HasS256():
		http.Error(w, "PKCE apps must send code_challenge with code_challenge_method=S256", http.StatusBadRequest)
	case a.Query.Has("scope"):
		a.RedirectBack(w, r, url.Values{"error": {"invalid_scope"}, "error_description": {"desktop redirects cannot request bot scopes"}})
	case a.Query.Get("user_scope") == "":
		a.RedirectBack(w, r, url.Values{"error": {"invalid_scope"}, "error_description": {"no user_scope requested"}})
	default:
		a.RedirectBack(w, r, url.Values{"code": {a.Issue(&f.codes, "user_scope", "")}})
	}
}

func (f *fakeSlack) access(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	form := r.PostForm
	if form.Get("client_id") != f.clientID {
		f.fail(w, "invalid_client_id")
		return
	}
	switch form.Get("grant_type") {
	case "", provider.GrantTypeAuthorizationCode:
		c, ok := f.codes.Redeem(form.Get("code"))
		switch {
		case !ok:
			f.fail(w, "invalid_code")
		case c.Challenge != "" && form.Has("client_secret"):
			f.fail(w, "bad_client_secret") // a PKCE app is a public client
		case form.Get("redirect_uri") != c.RedirectURI:
			f.fail(w, "bad_redirect_uri")
		case !c.Verifies(form.Get("code_verifier")):
			f.fail(w, "invalid_code")
		default:
			f.issue(w, c.Scope, false)
		}
	case provider.GrantTypeRefreshToken:
		if f.badGrantType {
			f.fail(w, "invalid_grant_type")
			return
		}
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
	vars := map[string]string{"$ACCESS_TOKEN": "xoxp-" + logintest.RandomString(), "$SCOPE": strings.Join(scopes, ",")}
	name := "access_user_no_rotation.json"
	if f.rotation {
		vars["$ACCESS_TOKEN"] = "xoxe.xoxp-1-" + logintest.RandomString()
		vars["$REFRESH_TOKEN"] = "xoxe-1-" + logintest.RandomString()
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
