package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

// identDriver is a static driver that says who a token belongs to.
type identDriver struct {
	staticDriver
	apis    []string
	subject func(*provider.Token) string
}

func (d identDriver) Describe() provider.Description {
	return provider.Description{Name: "static", ClientID: "client", APIs: d.apis}
}

func (d identDriver) Identity(_ context.Context, t *provider.Token) (*provider.Identity, error) {
	if s := d.subject(t); s != "" {
		return &provider.Identity{Subject: s}, nil
	}
	return nil, errors.New("no identity")
}

// TestTokenOnlyToItsAPIs: HTTPClient sends the token to the provider's
// declared API origins (driver, config apis:, userinfo endpoint) and
// refuses every other URL before attaching it — no request reaches the
// other host. Before, any https (or loopback) URL got the token.
func TestTokenOnlyToItsAPIs(t *testing.T) {
	var seen atomic.Value
	seen.Store("")
	var hits atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		seen.Store(r.Header.Get("Authorization"))
	}))
	t.Cleanup(api.Close)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the other host got a request with Authorization %q", r.Header.Get("Authorization"))
	}))
	t.Cleanup(evil.Close)

	d := identDriver{staticDriver: staticDriver{meta: provider.AuthServerMetadata{Issuer: "https://idp.example", UserinfoEndpoint: api.URL + "/userinfo"}},
		apis: []string{api.URL + "/v1"}, subject: func(*provider.Token) string { return "alice" }}
	o := withDriver(d, Options{Logger: slog.New(slog.DiscardHandler)})
	o.Providers[0].APIs = []string{api.URL + "/configured"}
	a, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.providers["p"].loggedInWith(context.Background(), d, &d.meta,
		&provider.Token{AccessToken: "secret-at", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}, false); err != nil {
		t.Fatal(err)
	}
	var got *http.Response
	h := wrapped(a, func(ctx context.Context) (*Result, error) {
		c := HTTPClient(ctx, "p")
		for _, u := range []string{api.URL + "/v1/repos", api.URL + "/configured/x", api.URL + "/userinfo"} {
			resp, err := c.Get(u)
			if err != nil {
				t.Errorf("%s: %v", u, err)
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			got = resp
		}
		for _, u := range []string{evil.URL + "/v1/repos", api.URL + "/v10/repos", api.URL + "/other"} {
			_, err := c.Get(u)
			if !errors.Is(err, ErrNotAnAPI) || strings.Contains(err.Error(), "secret-at") {
				t.Errorf("%s: err = %v, want ErrNotAnAPI without the token", u, err)
			}
		}
		return textResult("done"), nil
	}, []Requirement{{Provider: "p"}})
	if _, err := h(context.Background(), &Request{}); err != nil {
		t.Fatal(err)
	}
	if got == nil || hits.Load() != 3 || seen.Load() != "Bearer secret-at" {
		t.Errorf("API requests = %d, last Authorization %q; want 3 with the token", hits.Load(), seen.Load())
	}
}

// TestOtherUserIsNotSwappedIn: a re-login approved as another user leaves
// the first user's token in place and says why; after a logout another
// user may log in.
func TestOtherUserIsNotSwappedIn(t *testing.T) {
	d := identDriver{staticDriver: staticDriver{meta: provider.AuthServerMetadata{Issuer: "https://idp.example"}},
		subject: func(t *provider.Token) string { return strings.TrimPrefix(t.AccessToken, "at-") }}
	a, err := New(context.Background(), withDriver(d, Options{Logger: slog.New(slog.DiscardHandler)}))
	if err != nil {
		t.Fatal(err)
	}
	p := a.providers["p"]
	login := func(tokenUser string) error {
		return p.loggedInWith(context.Background(), d, &d.meta, &provider.Token{AccessToken: "at-" + tokenUser, Expiry: time.Now().Add(time.Hour)}, false)
	}
	if err := login("alice"); err != nil {
		t.Fatal(err)
	}
	err = login("mallory")
	if !errors.Is(err, ErrOtherUser) || !strings.Contains(err.Error(), "logged in as alice") || !strings.Contains(err.Error(), "approved as mallory") {
		t.Fatalf("second user: err = %v", err)
	}
	if tok, err := p.token(context.Background()); err != nil || tok.AccessToken != "at-alice" {
		t.Fatalf("after the refused login: token %v, %v; want alice's", tok, err)
	}
	if err := login(""); !errors.Is(err, ErrOtherUser) || !strings.Contains(err.Error(), "user is unknown") {
		t.Fatalf("unknown user: err = %v", err)
	}
	if _, err := p.logout(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if err := login("mallory"); err != nil {
		t.Fatalf("after logout: %v", err)
	}
}

// TestAddAccount: a login for another account ("add") is the explicit way
// past ErrOtherUser: both accounts are kept, the new one is the default,
// and logging out one leaves the other usable.
func TestAddAccount(t *testing.T) {
	d := identDriver{staticDriver: staticDriver{meta: provider.AuthServerMetadata{Issuer: "https://idp.example"}},
		subject: func(t *provider.Token) string { return strings.TrimPrefix(t.AccessToken, "at-") }}
	a, err := New(context.Background(), withDriver(d, Options{Logger: slog.New(slog.DiscardHandler)}))
	if err != nil {
		t.Fatal(err)
	}
	p := a.providers["p"]
	ctx := context.Background()
	login := func(user string, add bool) error {
		return p.loggedInWith(ctx, d, &d.meta, &provider.Token{AccessToken: "at-" + user, Expiry: time.Now().Add(time.Hour)}, add)
	}
	if err := login("alice", false); err != nil {
		t.Fatal(err)
	}
	if err := login("bob", true); err != nil {
		t.Fatalf("adding bob: %v", err)
	}
	if tok, err := p.token(ctx); err != nil || tok.AccessToken != "at-bob" {
		t.Fatalf("default after adding bob: %v, %v; want bob's", tok, err)
	}
	if got := a.otherAccounts(ctx, p); !strings.Contains(got, "alice") || strings.Contains(got, "bob") {
		t.Errorf("other accounts = %q, want alice only", got)
	}
	if _, err := p.logout(ctx, "carol"); err == nil || !strings.Contains(err.Error(), "alice") {
		t.Errorf("logout of an unknown account: %v, want an error listing the accounts", err)
	}
	out, err := p.logout(ctx, "bob")
	if err != nil || len(out) != 1 || out[0].who != "bob" || out[0].revocation != revokeUnsupported {
		t.Fatalf("logout bob = %+v, %v; want bob, not revocable (the driver is no Revoker)", out, err)
	}
	if text := describeLogout("P", out); !strings.Contains(text, "only forgotten") || strings.Contains(text, "at-bob") {
		t.Errorf("logout text %q: want it to say the token was only forgotten, without the token", text)
	}
	// The remaining account becomes the default.
	if tok, err := p.token(ctx); err != nil || tok.AccessToken != "at-alice" {
		t.Fatalf("default after logging out bob: %v, %v; want alice's", tok, err)
	}
}

// TestSameIssuerTwoProviders: two providers with one issuer, client and
// user keep their own tokens: logging one out leaves the other logged in.
func TestSameIssuerTwoProviders(t *testing.T) {
	d := identDriver{staticDriver: staticDriver{meta: provider.AuthServerMetadata{Issuer: "https://idp.example"}},
		subject: func(*provider.Token) string { return "alice" }}
	o := withDriver(d, Options{Logger: slog.New(slog.DiscardHandler)})
	o.Providers = append(o.Providers, o.Providers[0])
	o.Providers[1].Name = "q"
	a, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"p", "q"} {
		if err := a.providers[n].loggedInWith(context.Background(), d, &d.meta, &provider.Token{AccessToken: "at-" + n, Expiry: time.Now().Add(time.Hour)}, false); err != nil {
			t.Fatal(err)
		}
	}
	a.providers["p"].logout(context.Background(), "")
	if tok, err := a.providers["q"].token(context.Background()); err != nil || tok.AccessToken != "at-q" {
		t.Fatalf("q after p's logout: %v, %v", tok, err)
	}
}

// TestUnknownProviderIsAStartUpError: a tool needing a provider nobody
// configured is not a panic but an error ServeStdio returns before serving,
// naming the configured providers.
func TestUnknownProviderIsAStartUpError(t *testing.T) {
	a := loggedInAuth(t)
	a.Protected("whoami", Need("github"))
	_, _, err := a.Stdio()
	if !errors.Is(err, ErrUnknownProvider) || !strings.Contains(err.Error(), `tool "whoami"`) || !strings.Contains(err.Error(), "(configured: p)") {
		t.Fatalf("err = %v", err)
	}
	if len(a.tools) != 0 {
		t.Error("the tool was registered anyway")
	}
}

// TestDefaultsComposeWithUserConfig: the author's defaults in code, a user
// file that changes only client_id, and a variable that changes scopes give
// the merge; a tool needing a provider the configuration names differently
// is a start-up error listing what exists.
func TestDefaultsComposeWithUserConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte("providers:\n  - name: github\n    client_id: Iv1.users-own-app\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Options{
		Providers:  []config.Provider{{Name: "github", Issuer: "https://github.com", ClientID: "Iv1.authors-app", Scopes: []string{"repo"}, DisplayName: "GitHub"}},
		ConfigFile: file,
		Environ:    []string{"MCPAUTH_PROVIDERS_GITHUB_SCOPES=read:user,repo"},
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ps := a.Providers()
	if len(ps) != 1 {
		t.Fatalf("providers %v", ps)
	}
	p := ps[0]
	if p.Issuer != "https://github.com" || p.ClientID != "Iv1.users-own-app" || strings.Join(p.Scopes, " ") != "read:user repo" || p.DisplayName != "GitHub" {
		t.Errorf("effective provider %+v", p.Provider)
	}
	if name := p.Driver.Describe().Name; name != "github" && name != "github (not started)" && !strings.HasPrefix(name, "github") {
		t.Errorf("driver %q", name)
	}

	// No defaults; the user calls the provider "gh".
	if err := os.WriteFile(file, []byte("providers:\n  - name: gh\n    issuer: https://github.com\n    client_id: Iv1.x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := New(context.Background(), Options{ConfigFile: file, Environ: []string{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	b.Protected("whoami", Need("github"))
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), `unknown provider "github" (configured: gh)`) {
		t.Fatalf("err = %v", err)
	}
}

// TestNothingConfigured: no defaults, no file, no variables: a sentinel
// error naming every place that was searched.
func TestNothingConfigured(t *testing.T) {
	t.Setenv("MCPAUTH_CONFIG", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	_, err := New(context.Background(), Options{Environ: []string{}, Logger: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, ErrNoProviders) {
		t.Fatalf("err = %v, want ErrNoProviders", err)
	}
	for _, want := range []string{"--config (not given)", "$MCPAUTH_CONFIG (not set)", "does not exist", "MCPAUTH_PROVIDERS (not set)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// hangingDriver's Metadata blocks until its context ends, or forever when
// ignoreCtx is set (a driver that does not honour cancellation).
type hangingDriver struct {
	staticDriver
	calls     *atomic.Int32
	ignoreCtx bool
	release   chan struct{}
}

func (d hangingDriver) Metadata(ctx context.Context) (*provider.AuthServerMetadata, error) {
	d.calls.Add(1)
	if d.ignoreCtx {
		<-d.release
		return nil, errors.New("released")
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestHungDriverKeepsTheWaitBound: a login whose driver never answers (a
// hung plugin, discovery that never returns) ends the call within the wait
// bound with a clear message, and the next call starts a new login instead
// of joining the stuck one — also when the driver ignores cancellation.
// Before, the call waited as long as the client's own context allowed.
func TestHungDriverKeepsTheWaitBound(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignores cancellation %v", ignore), func(t *testing.T) {
			var calls atomic.Int32
			d := hangingDriver{staticDriver: staticDriver{meta: provider.AuthServerMetadata{Issuer: "https://idp.example"}},
				calls: &calls, ignoreCtx: ignore, release: make(chan struct{})}
			t.Cleanup(func() { close(d.release) })
			a, err := New(context.Background(), withDriver(d, Options{Logger: slog.New(slog.DiscardHandler), WaitTimeout: 300 * time.Millisecond}))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			h := wrapped(a, func(context.Context) (*Result, error) {
				t.Error("the tool ran without a login")
				return nil, nil
			}, []Requirement{{Provider: "p"}})
			for i := range 2 {
				start := time.Now()
				res, err := h(context.Background(), &Request{}) // no deadline of its own
				took := time.Since(start)
				if err != nil || res == nil || !res.IsError || !strings.Contains(resultTextOf(res), "showed nothing within 300ms") {
					t.Fatalf("call %d: %+v, %v", i+1, res, err)
				}
				if took > 5*time.Second {
					t.Errorf("call %d took %v, far past the 300 ms bound", i+1, took)
				}
			}
			if n := calls.Load(); n != 2 {
				t.Errorf("driver called %d times, want 2: the second call must start over", n)
			}
		})
	}
}

func resultTextOf(res *Result) string { return res.Text }

// TestInvalidTokenWithoutExpiryIsDropped: a token that never expires (a
// GitHub OAuth App's), refused by its API with 401 invalid_token (revoked
// at the provider), is dropped so the next call logs in again; a token
// with an expiry is left to its refresh. Before, the dead token was sent
// forever.
func TestInvalidTokenWithoutExpiryIsDropped(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token", error_description="revoked"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(api.Close)
	for _, tt := range []struct {
		name        string
		expiry      time.Time
		wantDropped bool
	}{
		{"no expiry", time.Time{}, true},
		{"with an expiry", time.Now().Add(time.Hour), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := identDriver{staticDriver: staticDriver{meta: provider.AuthServerMetadata{Issuer: "https://idp.example"}},
				apis: []string{api.URL}, subject: func(*provider.Token) string { return "alice" }}
			a, err := New(context.Background(), withDriver(d, Options{Logger: slog.New(slog.DiscardHandler)}))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			p := a.providers["p"]
			if err := p.loggedInWith(context.Background(), d, &d.meta, &provider.Token{AccessToken: "revoked-at", Expiry: tt.expiry}, false); err != nil {
				t.Fatal(err)
			}
			h := wrapped(a, func(ctx context.Context) (*Result, error) {
				resp, err := HTTPClient(ctx, "p").Get(api.URL + "/x")
				if err != nil {
					return nil, err
				}
				resp.Body.Close()
				return textResult(resp.Status), nil
			}, []Requirement{{Provider: "p"}})
			if _, err := h(context.Background(), &Request{}); err != nil {
				t.Fatal(err)
			}
			_, err = p.token(context.Background())
			if dropped := errors.Is(err, provider.ErrNoToken); dropped != tt.wantDropped {
				t.Errorf("after the 401: token err = %v; dropped = %v, want %v", err, dropped, tt.wantDropped)
			}
		})
	}
}

// TestNoAuthorizationURLInModelText: for a client that shows links itself
// (URL elicitation), "still waiting" text the model reads carries no PKCE
// authorization URL (state, challenge, loopback port); a client without
// elicitation still gets the link, which is all it has.
func TestNoAuthorizationURLInModelText(t *testing.T) {
	a := loggedInAuth(t)
	p := a.providers["p"]
	pr := &prompt{grant: provider.GrantPKCE, url: "https://idp.example/authorize?state=S3CR3T-STATE&code_challenge=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback"}
	urlClient := resultTextOf(a.failure(callerWith(Client{Elicitation: ElicitURL}), p, pr, ErrStillWaiting))
	if strings.Contains(urlClient, "S3CR3T-STATE") || strings.Contains(urlClient, "idp.example/authorize") || !strings.Contains(urlClient, "browser") {
		t.Errorf("URL-elicitation client's text: %q", urlClient)
	}
	noElicitation := resultTextOf(a.failure(callerWith(Client{Elicitation: ElicitNone}), p, pr, ErrStillWaiting))
	if !strings.Contains(noElicitation, pr.url) {
		t.Errorf("a client without elicitation lost the link: %q", noElicitation)
	}
	device := &prompt{grant: provider.GrantDevice, url: "https://idp.example/device", userCode: "ABCD-EFGH"}
	if got := resultTextOf(a.failure(callerWith(Client{Elicitation: ElicitURL}), p, device, ErrStillWaiting)); !strings.Contains(got, "ABCD-EFGH") {
		t.Errorf("device login text lost the code: %q", got)
	}
}

// TestLinkStandsOnItsOwnLine: the no-elicitation text puts the link on a
// line of its own, which a strict url.Parse of that line accepts whole
// (state included), and the code likewise; no punctuation is glued to
// either. Before, "open URL." broke the state for a user who copied it.
func TestLinkStandsOnItsOwnLine(t *testing.T) {
	a := loggedInAuth(t)
	link := "https://idp.example/authorize?client_id=c&state=Xwo-Q_LDrk&code_challenge=abc"
	text := resultTextOf(a.linkResult(a.providers["p"], &prompt{grant: provider.GrantDevice, url: link, userCode: "BCDF-GHJK", expires: time.Now().Add(time.Minute)}))
	var gotLink, gotCode bool
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "https://") {
			u, err := url.Parse(line)
			gotLink = err == nil && line == link && u.Query().Get("state") == "Xwo-Q_LDrk"
		}
		gotCode = gotCode || line == "BCDF-GHJK"
	}
	if !gotLink || !gotCode {
		t.Errorf("link on its own line %v, code on its own line %v:\n%s", gotLink, gotCode, text)
	}
}

// TestAuthToolAnnotations: auth_status was annotated read-only and (by
// mcp-go's default) destructive at once; each auth tool now says what it is.
func TestAuthToolAnnotations(t *testing.T) {
	a := loggedInAuth(t)
	want := map[string][2]bool{ToolLogin: {false, false}, ToolStatus: {true, false}, ToolLogout: {false, true}}
	for _, at := range a.AuthTools() {
		w, ok := want[at.Name]
		if !ok {
			t.Errorf("unexpected auth tool %s", at.Name)
			continue
		}
		delete(want, at.Name)
		if at.ReadOnly != w[0] || at.Destructive != w[1] {
			t.Errorf("%s: readOnly %v destructive %v, want %v %v", at.Name, at.ReadOnly, at.Destructive, w[0], w[1])
		}
		if at.InputSchema["type"] != "object" {
			t.Errorf("%s: input schema %v", at.Name, at.InputSchema)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing auth tools: %v", want)
	}
}

// TestQuietCallsAnswerBeforeTheClientGivesUp: a call without a
// progressToken, waiting for a login nobody approves, answers "still
// waiting" within QuietWait (no progress can keep its request alive; the
// TypeScript SDK gives up after 60 s); a call with one may wait up to
// WaitTimeout. The login goes on in the background either way.
func TestQuietCallsAnswerBeforeTheClientGivesUp(t *testing.T) {
	d := twoGrantDriver{staticDriver{meta: provider.AuthServerMetadata{Issuer: "https://idp.example",
		TokenEndpoint: "https://idp.example/token", DeviceAuthorizationEndpoint: "https://idp.example/device"}}}
	const quiet, wait = 300 * time.Millisecond, 1500 * time.Millisecond
	a, err := New(context.Background(), withDriver(d, Options{Logger: slog.New(slog.DiscardHandler), QuietWait: quiet, WaitTimeout: wait,
		Env: &login.Environment{GOOS: "linux"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h := wrapped(a, func(context.Context) (*Result, error) {
		t.Error("the tool ran without a login")
		return nil, nil
	}, []Requirement{{Provider: "p"}})
	// The first call starts the login and shows it (no elicitation: the link).
	if res, err := h(context.Background(), &Request{}); err != nil || !strings.Contains(resultTextOf(res), "BCDF-GHJK") {
		t.Fatalf("first call: %+v, %v", res, err)
	}
	call := func(progress bool) time.Duration {
		req := &Request{}
		if progress {
			req.ProgressToken = "p1"
		}
		start := time.Now()
		res, err := h(context.Background(), req)
		took := time.Since(start)
		if err != nil || !strings.Contains(resultTextOf(res), "Call this tool again") {
			t.Fatalf("progress %v: %+v, %v; want still waiting", progress, res, err)
		}
		return took
	}
	if took := call(false); took < quiet || took >= wait {
		t.Errorf("without a progressToken the call took %v, want about %v (less than the %v WaitTimeout)", took, quiet, wait)
	}
	if took := call(true); took < wait {
		t.Errorf("with a progressToken the call took %v, want the full %v", took, wait)
	}
	if f := a.providers["p"].flow; f == nil || f.finished() {
		t.Error("the login stopped; it must go on in the background")
	}
}
