package login

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mcpauth/mcpauth/provider"
	"golang.org/x/oauth2"
)

// Loopback defaults.
const (
	// DefaultLoopbackHost is the IPv4 loopback literal: RFC 8252 §7.3 and
	// §8.3 prefer it to "localhost", which can resolve elsewhere.
	DefaultLoopbackHost = "127.0.0.1"
	// DefaultCallbackPath is where the redirect lands on the listener.
	DefaultCallbackPath = "/callback"
	// DefaultLoginTimeout bounds how long the listener waits for the browser.
	DefaultLoginTimeout = 5 * time.Minute
	// shutdownGrace lets the result page reach the browser before the
	// listener closes.
	shutdownGrace = 2 * time.Second
)

// Loopback runs the authorization code grant with PKCE S256 and a loopback
// redirect (RFC 7636, RFC 8252 §7.3). It listens on 127.0.0.1, checks the
// state and, when present or advertised, the RFC 9207 iss parameter, exchanges
// the code, shows a result page, and closes the listener on every path.
type Loopback struct {
	// Host to listen on; default: the loopback address RedirectHost names
	// (127.0.0.1 for "localhost", which also listens on ::1 when it can).
	// Listening on all interfaces is never the default: set it explicitly
	// (e.g. for a published container port).
	Host string
	// RedirectHost is the host written in the redirect URI: "127.0.0.1"
	// (the default, RFC 8252 §7.3), "localhost" (Slack and Entra match it,
	// not the IP literal) or "::1". Whatever it says, the listener is on a
	// loopback address only.
	RedirectHost string
	// Port to listen on; 0 picks a free one. A configured port that is busy is
	// an error, never a silent switch (the redirect URI registered with the
	// server would not match).
	Port int
	// Timeout bounds the whole login; default DefaultLoginTimeout.
	Timeout time.Duration
	// Open shows the authorization URL to the user: open a browser, print it,
	// or send it as an elicitation. Required.
	Open func(ctx context.Context, authURL string) error
}

// Authorize runs one browser login against the driver and returns the token.
func (l *Loopback) Authorize(ctx context.Context, d provider.CodeExchanger, meta *provider.AuthServerMetadata, scopes []string) (*provider.Token, error) {
	if l.Open == nil {
		return nil, errors.New("login: Loopback.Open is not set")
	}
	if len(meta.CodeChallengeMethodsSupported) > 0 && !slices.Contains(meta.CodeChallengeMethodsSupported, "S256") {
		return nil, fmt.Errorf("login: %s lists code challenge methods %v: %w: %w",
			meta.Issuer, meta.CodeChallengeMethodsSupported, provider.ErrPKCEUnsupported, provider.ErrLoopbackUnavailable)
	}
	lns, err := l.listen()
	if err != nil {
		return nil, err
	}
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultLoginTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	state, err := randomString()
	if err != nil {
		closeAll()
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	redirect := "http://" + net.JoinHostPort(l.redirectHost(), strconv.Itoa(lns[0].Addr().(*net.TCPAddr).Port)) + DefaultCallbackPath
	authURL, err := d.AuthCodeURL(ctx, provider.AuthCodeRequest{
		State:         state,
		CodeChallenge: oauth2.S256ChallengeFromVerifier(verifier),
		RedirectURI:   redirect,
		Scopes:        scopes,
	})
	if err != nil {
		closeAll()
		return nil, err
	}

	type result struct {
		tok *provider.Token
		err error
	}
	done := make(chan result, 1)
	cb := &callback{state: state, issuer: meta.Issuer, issRequired: meta.AuthorizationResponseIssParameterSupported}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DefaultCallbackPath, func(w http.ResponseWriter, r *http.Request) {
		// A missing or wrong state means the request is not the response to
		// this login: a forged or stale redirect (RFC 6749 §10.12, RFC 9700
		// §4.7). It is answered but does not end the login, or anyone who
		// can reach the port could cancel it.
		if !cb.stateMatches(r) {
			renderPage(w, http.StatusBadRequest, pageStray, provider.ErrStateMismatch.Error())
			return
		}
		// The state is single-use (RFC 6749 §10.12): only the first
		// response carrying it is exchanged; a replay (reload, a second tab)
		// runs no second exchange.
		if !cb.claim() {
			renderPage(w, http.StatusOK, pageAlready, "")
			return
		}
		code, err := cb.check(r)
		var tok *provider.Token
		if err == nil {
			tok, err = d.Exchange(ctx, code, verifier, redirect)
		}
		if err != nil {
			renderPage(w, http.StatusBadRequest, pageFailed, err.Error())
		} else {
			renderPage(w, http.StatusOK, pageComplete, "")
		}
		done <- result{withRequestedScopes(tok, scopes), err} // once: claim
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range lns {
		go srv.Serve(ln)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer scancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
		// Serve may not have registered a listener yet when Shutdown ran:
		// close them here so they are closed when Authorize returns, on every path.
		closeAll()
	}()

	if err := l.Open(ctx, authURL); err != nil {
		return nil, fmt.Errorf("login: showing the authorization URL: %w", err)
	}
	select {
	case res := <-done:
		return res.tok, res.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("login: no browser redirect within %s: %w", timeout, provider.ErrLoginTimeout)
		}
		return nil, fmt.Errorf("login: browser login stopped: %w", ctx.Err())
	}
}

// redirectHost is the host of the redirect URI.
func (l *Loopback) redirectHost() string {
	if l.RedirectHost == "" {
		return DefaultLoopbackHost
	}
	return l.RedirectHost
}

// listen opens the redirect listener: on Host if set, else on the loopback
// address the redirect host names. For "localhost" it listens on 127.0.0.1
// and, on the same port, on ::1 when the machine has IPv6 loopback: a
// browser may resolve localhost to either.
func (l *Loopback) listen() ([]net.Listener, error) {
	host := l.Host
	if host == "" {
		switch h := l.redirectHost(); h {
		case "localhost":
			host = DefaultLoopbackHost
		default:
			host = h
		}
	}
	if !provider.IsLoopbackHost(l.redirectHost()) {
		return nil, fmt.Errorf("login: redirect host %q is not a loopback host (127.0.0.1, localhost or ::1): %w", l.redirectHost(), provider.ErrLoopbackUnavailable)
	}
	addr := net.JoinHostPort(host, strconv.Itoa(l.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if l.Port != 0 {
			return nil, fmt.Errorf("login: loopback port %d is not available (configured port; free it or choose another, and register the redirect URI for it): %w: %w", l.Port, provider.ErrLoopbackUnavailable, err)
		}
		return nil, fmt.Errorf("login: loopback listener on %s: %w: %w", addr, provider.ErrLoopbackUnavailable, err)
	}
	lns := []net.Listener{ln}
	if l.Host == "" && l.redirectHost() == "localhost" {
		port := ln.Addr().(*net.TCPAddr).Port
		if ln6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
			lns = append(lns, ln6)
		}
	}
	return lns, nil
}

// callback validates an authorization response (RFC 6749 §4.1.2).
type callback struct {
	state       string
	issuer      string
	issRequired bool
	used        atomic.Bool
}

// stateMatches reports whether r carries this login's state.
func (c *callback) stateMatches(r *http.Request) bool {
	return subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("state")), []byte(c.state)) == 1
}

// claim marks the state used; it reports false if it already was.
func (c *callback) claim() bool { return c.used.CompareAndSwap(false, true) }

// check validates the rest of a response whose state matched.
func (c *callback) check(r *http.Request) (code string, err error) {
	q := r.URL.Query()
	// RFC 9207 §2.4: compare iss when the server advertises it, and whenever
	// it is present.
	if iss, ok := q["iss"]; ok || c.issRequired {
		got := ""
		if ok {
			got = iss[0]
		}
		if got != c.issuer {
			return "", fmt.Errorf("login: authorization response from issuer %q, expected %q: %w", got, c.issuer, provider.ErrIssuerMismatch)
		}
	}
	if e := q.Get("error"); e != "" {
		return "", &provider.OAuthError{Endpoint: "authorization", Code: e, Description: q.Get("error_description"), URI: q.Get("error_uri")}
	}
	code = q.Get("code")
	if code == "" {
		return "", errors.New("login: authorization response has neither code nor error")
	}
	return code, nil
}

// The pages the listener answers with.
const (
	pageComplete = iota
	pageFailed
	pageStray
	pageAlready
)

// resultPage is rendered with html/template: everything the server sent back
// (error codes, descriptions) is escaped.
var resultPage = template.Must(template.New("result").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>mcpauth</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
{{if eq .Kind 0}}<h1>Login complete</h1><p>You can close this window and return to your application.</p>
{{else if eq .Kind 1}}<h1>Login failed</h1><p>{{.Message}}</p><p>You can close this window.</p>
{{else if eq .Kind 2}}<h1>Not this login</h1><p>This response does not belong to the login in progress: its state parameter is missing or wrong ({{.Message}}). It was ignored; the login goes on in the window you started it from.</p>
{{else}}<h1>Login already completed</h1><p>This authorization response was already used. You can close this window and return to your application.</p>{{end}}
</body></html>
`))

func renderPage(w http.ResponseWriter, status, kind int, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	resultPage.Execute(w, struct {
		Kind    int
		Message string
	}{kind, message})
}

// randomString returns 32 random bytes, base64url without padding.
func randomString() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("login: random state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
