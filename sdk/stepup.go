package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// challengeBodyMax is how much of a refusal's body the driver's Challenger
// sees (provider.APIResponse: the head of the body).
const challengeBodyMax = 4 << 10

// HTTPClient returns a client for the protected tool call running in ctx
// that sends the named provider's token with every request (RFC 6750 §2.1)
// and handles scope step-up:
//
//   - a 401 or 403 that the driver's Challenger reads as a scope challenge
//     (RFC 6750 §3.1 insufficient_scope) makes mcpauth authorize the union
//     of the token's scopes and the requested ones, then send the request
//     again, once, if its body can be replayed (GetBody; http.NewRequest
//     sets it for in-memory bodies);
//   - a second refusal is returned as an error matching ErrStepUpRefused.
//
// For MCP 2025-11-25 clients with elicitation the login is shown from
// within the request. Other clients cannot be asked from there (2026-07-28
// clients take questions only as a tool result): the request fails with an
// error, the handler's result is replaced by the login prompt, and the
// handler runs again once the user has approved it, so such handlers must be
// safe to run twice.
//
// The token is sent only to the provider's API origins (see Options and the
// config file's apis:; drivers declare their own, the userinfo endpoint is
// always one), only over https (or http on loopback), and never across a
// redirect to another host; a request elsewhere fails with ErrNotAnAPI and
// no token. Scope challenges are therefore read only from those APIs. The client has no overall Timeout,
// since a step-up may wait for the user; bound requests with their context.
// Outside a protected handler every request fails with ErrNotProtected.
func HTTPClient(ctx context.Context, providerName string) *http.Client {
	cs, _ := ctx.Value(callKey{}).(*callState)
	base := http.DefaultTransport
	var jar http.CookieJar
	if cs != nil && cs.a.opts.HTTPClient != nil {
		if cs.a.opts.HTTPClient.Transport != nil {
			base = cs.a.opts.HTTPClient.Transport
		}
		jar = cs.a.opts.HTTPClient.Jar
	}
	return &http.Client{Transport: &bearerTransport{cs: cs, name: providerName, base: base}, Jar: jar}
}

// bearerTransport injects the token and runs step-up.
type bearerTransport struct {
	cs   *callState
	name string
	base http.RoundTripper
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.cs == nil {
		closeBody(req)
		return nil, ErrNotProtected
	}
	p, err := t.cs.a.provider(t.name)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if !sameOrigin(req) {
		// A redirect to another host: follow it without the token.
		return t.base.RoundTrip(req)
	}
	if req.URL.Scheme != "https" && !(req.URL.Scheme == "http" && provider.IsLoopbackHost(req.URL.Hostname())) {
		closeBody(req)
		return nil, fmt.Errorf("mcpauth: %s: refusing to send a token to %s over %s", t.name, req.URL.Host, req.URL.Scheme)
	}
	ctx := req.Context()
	tok, err := p.token(ctx)
	if err != nil {
		closeBody(req)
		return nil, fmt.Errorf("mcpauth: %s: %w", t.name, err)
	}
	if ok, apis := p.allowedAPI(req.URL); !ok {
		closeBody(req)
		names := make([]string, len(apis))
		for i, a := range apis {
			names[i] = a.String()
		}
		return nil, fmt.Errorf("%w: refusing to send the %s token to %s://%s%s (its APIs: %s); if the provider's token belongs there, list it under apis: in the config",
			ErrNotAnAPI, t.name, req.URL.Scheme, req.URL.Host, req.URL.EscapedPath(), orNone(names))
	}
	resp, err := t.send(req, req.Body, tok)
	if err == nil && invalidToken(resp) {
		p.rejected(ctx, tok)
	}
	if err != nil || !refused(p, resp) {
		return resp, err
	}
	ch, ok := t.challenge(p, resp)
	if !ok {
		return resp, nil
	}
	missing := slices.DeleteFunc(slices.Clone(ch.Scopes), func(s string) bool { return slices.Contains(tok.Scopes, s) })
	if t.cs.hasSteppedUp(t.name) {
		discard(resp)
		return nil, fmt.Errorf("%w: %s %s answered %d after the login to %s with scopes %q%s",
			ErrStepUpRefused, req.Method, req.URL.Redacted(), resp.StatusCode, p.cfg.DisplayName, strings.Join(tok.Scopes, " "), describeChallenge(ch))
	}
	if len(missing) == 0 {
		if len(ch.Permissions) > 0 {
			discard(resp)
			return nil, fmt.Errorf("mcpauth: %s: the API needs permissions that cannot be requested as scopes: %s; change the app's settings at the provider%s",
				t.name, strings.Join(ch.Permissions, ", "), describeChallenge(ch))
		}
		return resp, nil // nothing to ask for: the tool sees the refusal
	}
	discard(resp)
	want := union(tok.Scopes, ch.Scopes)
	t.cs.a.logger.Info("mcpauth: the API asks for more scopes; authorizing them", "provider", t.name,
		"missing", missing, "status", resp.StatusCode)
	newTok, err := t.cs.stepUp(ctx, p, want)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	body := io.ReadCloser(nil)
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, fmt.Errorf("mcpauth: %s: authorized the scopes %q, but the request body cannot be sent again (no GetBody); call the tool again", t.name, strings.Join(missing, " "))
		}
		if body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("mcpauth: %s: replaying the request body: %w", t.name, err)
		}
	}
	resp, err = t.send(req, body, newTok)
	if err != nil || !refused(p, resp) {
		return resp, err
	}
	if ch2, ok := t.challenge(p, resp); ok {
		discard(resp)
		return nil, fmt.Errorf("%w: %s %s answered %d after the login to %s with scopes %q%s",
			ErrStepUpRefused, req.Method, req.URL.Redacted(), resp.StatusCode, p.cfg.DisplayName, strings.Join(newTok.Scopes, " "), describeChallenge(ch2))
	}
	return resp, nil
}

// send sends a copy of req with body and the token.
func (t *bearerTransport) send(req *http.Request, body io.ReadCloser, tok *provider.Token) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Body = body
	typ := tok.TokenType
	if typ == "" || strings.EqualFold(typ, "bearer") {
		typ = "Bearer"
	}
	r.Header.Set("Authorization", typ+" "+tok.AccessToken)
	return t.base.RoundTrip(r)
}

// challenge asks the driver whether a refusal is a scope challenge; the
// response body stays readable for the caller.
func (t *bearerTransport) challenge(p *providerState, resp *http.Response) (*provider.ScopeChallenge, bool) {
	ch, ok := p.cfg.Driver.(provider.Challenger)
	if !ok {
		return nil, false
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, challengeBodyMax))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	c, ok := ch.Challenge(provider.APIResponse{StatusCode: resp.StatusCode, Header: resp.Header.Clone(), Body: head})
	if !ok || c == nil {
		return nil, false
	}
	return c, true
}

// stepUp gets a token with scopes for p. A 2025-11-25 client with
// elicitation is asked right away; for any other the request is recorded,
// and the handler's result is replaced by the login prompt (see wrap).
func (cs *callState) stepUp(ctx context.Context, p *providerState, scopes []string) (*provider.Token, error) {
	if cs.c.modern() || cs.c.kind() == ElicitNone || cs.c.peer == nil {
		cs.setPending(&stepUpRequest{p: p, scopes: scopes})
		return nil, fmt.Errorf("mcpauth: %s: the API asks for the scopes %q; the user is asked to authorize them and the tool runs again afterwards",
			p.cfg.Name, strings.Join(scopes, " "))
	}
	a := cs.a
	f, started := p.startOrJoin(cs.c, scopes, true, false)
	var pr *prompt
	if started {
		var err error
		if pr, err = a.promptWithin(ctx, f, cs.waitBound()); err != nil {
			return nil, err
		}
	}
	if pr != nil { // nil: a stored login had the scopes, nothing to show
		params, ok := a.elicitation(cs.c, f, pr)
		if !ok {
			return nil, errors.New("mcpauth: this client cannot show the login for more scopes")
		}
		// Progress keeps the request alive while the user reads the prompt.
		shown := make(chan struct{})
		if cs.c.progressToken != nil {
			go f.reportProgress(ctx, cs.c.peer, cs.c.progressToken, progressMessage(f), shown)
		}
		action, err := cs.c.peer.Elicit(ctx, params)
		close(shown)
		if err != nil {
			f.abort(err)
			return nil, fmt.Errorf("mcpauth: %s: asking the user to authorize more scopes: %w", p.cfg.Name, err)
		}
		if action != ActionAccept {
			f.abort(fmt.Errorf("%w (%s)", ErrDeclined, action))
			return nil, fmt.Errorf("mcpauth: %s: %w (%s) to authorize the scopes %q", p.cfg.Name, ErrDeclined, action, strings.Join(scopes, " "))
		}
	}
	if _, err := f.wait(ctx, cs.waitBound(), cs.progressFunc(ctx, f)); err != nil {
		return nil, fmt.Errorf("mcpauth: %s: authorizing more scopes: %w", p.cfg.Name, err)
	}
	cs.markSteppedUp(p.cfg.Name)
	return p.token(ctx)
}

// refused reports whether resp may carry a scope challenge for p's driver:
// 401 and 403 by default (RFC 6750 §3.1), or the statuses the driver names
// (GitHub answers 404 for what a token may not see; Slack refuses with 200).
func refused(p *providerState, resp *http.Response) bool {
	return p.cfg.Driver.Describe().ReadsChallenge(resp.StatusCode)
}

// sameOrigin reports whether req is the request the tool made or a
// redirect to the same host (the token goes no further, like net/http's
// rule for the Authorization header).
func sameOrigin(req *http.Request) bool {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	return first == req || strings.EqualFold(first.URL.Host, req.URL.Host)
}

func describeChallenge(c *provider.ScopeChallenge) string {
	if c == nil || c.Description == "" {
		return ""
	}
	return ": " + c.Description
}

func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none configured"
	}
	return strings.Join(s, ", ")
}

// invalidToken reports a 401 whose Bearer challenge says invalid_token
// (RFC 6750 §3.1: expired, revoked or malformed).
func invalidToken(resp *http.Response) bool {
	if resp.StatusCode != http.StatusUnauthorized {
		return false
	}
	for _, c := range oidc.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate")) {
		if strings.EqualFold(c.Scheme, "Bearer") && c.Params["error"] == "invalid_token" {
			return true
		}
	}
	return false
}
