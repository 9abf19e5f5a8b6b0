package sdk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// protectedTool is a tool registered through Protected.
type protectedTool struct {
	name  string
	needs []Requirement
}

// callKey carries the *callState of a protected tool call.
type callKey struct{}

// callState is one protected tool call.
type callState struct {
	a *Auth
	c caller

	mu        sync.Mutex
	steppedUp map[string]bool // providers already re-authorized for this call
	pending   *stepUpRequest  // an API asked for scopes this client must be asked for
}

type stepUpRequest struct {
	p      *providerState
	scopes []string
}

func (cs *callState) markSteppedUp(name string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.steppedUp == nil {
		cs.steppedUp = map[string]bool{}
	}
	cs.steppedUp[name] = true
}

func (cs *callState) hasSteppedUp(name string) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.steppedUp[name]
}

func (cs *callState) setPending(r *stepUpRequest) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.pending == nil {
		cs.pending = r
	}
}

func (cs *callState) takePending() *stepUpRequest {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	r := cs.pending
	cs.pending = nil
	return r
}

// ensure makes sure the call has a token of n.Provider with n.Scopes. It
// returns nil when it has, or the result to answer the call with.
func (a *Auth) ensure(ctx context.Context, cs *callState, n Requirement) *Result {
	p := a.providers[n.Provider]
	add := n.addAccount
	// A login in flight may have asked for fewer scopes than this call
	// needs: wait for it, then ask again (bounded).
	for range 3 {
		if !add {
			tok, err := p.token(ctx)
			if err == nil && tok.HasScopes(n.Scopes) {
				return nil
			}
			if err != nil && !needsLogin(err) {
				return a.failure(cs.c, p, nil, err)
			}
		}
		if res := a.authorize(ctx, cs, p, n.Scopes, false, add); res != nil {
			return res
		}
		add = false
	}
	return a.failure(cs.c, p, nil, fmt.Errorf("mcpauth: %s: the login did not grant the scopes %v", p.cfg.Name, n.Scopes))
}

func needsLogin(err error) bool {
	return errors.Is(err, provider.ErrNoToken) || errors.Is(err, provider.ErrRefreshFailed)
}

// authorize starts or joins p's login for scopes. A login this call starts
// is shown to the user (the returned result); a login in flight is joined
// and waited for (nil when it succeeded).
//
// A login this call starts may end without a prompt: another server
// process sharing the store logged in while this one waited for the login
// lock. The call then goes on. While that other login is in progress this
// call waits, up to the wait bound, and then answers "still waiting".
func (a *Auth) authorize(ctx context.Context, cs *callState, p *providerState, scopes []string, stepUp, add bool) *Result {
	f, started := p.startOrJoin(cs.c, scopes, stepUp, add)
	if !started {
		pr := f.shownPrompt()
		if _, err := f.wait(ctx, cs.waitBound(), cs.progressFunc(ctx, f)); err != nil {
			return a.failure(cs.c, p, pr, err)
		}
		if f.stepUp {
			cs.markSteppedUp(p.cfg.Name)
		}
		return nil
	}
	pr, err := a.promptWithin(ctx, f, cs.waitBound())
	if errors.Is(err, errNoPrompt) {
		return errorResult(fmt.Sprintf("The login to %s showed nothing within %s: the identity provider (or its driver) did not answer, "+
			"or another process of this server is logging in; this attempt was stopped. Call this tool again to start over.",
			p.cfg.DisplayName, cs.waitBound()))
	}
	if err != nil {
		return a.failure(cs.c, p, nil, err)
	}
	if pr == nil {
		return nil // logged in without a prompt: a stored login
	}
	res := a.present(cs.c, f, pr)
	if res.Input != nil {
		cs.keepAlive(f)
	}
	return res
}

// errNoPrompt: a login this call started showed nothing within the wait
// bound (a hung driver, slow discovery, a login lock held elsewhere).
var errNoPrompt = errors.New("mcpauth: the login showed nothing in time")

// promptWithin waits for the prompt of the login f this call started, at
// most the wait bound: a driver that hangs, or discovery that never
// answers, must not hold the call past it. On timeout the login is stopped,
// so that the next call starts over instead of joining a stuck one.
func (a *Auth) promptWithin(ctx context.Context, f *flow, bound time.Duration) (*prompt, error) {
	wctx, cancel := context.WithTimeoutCause(ctx, bound, errNoPrompt)
	defer cancel()
	pr, err := f.waitPrompt(wctx)
	if err != nil && errors.Is(context.Cause(wctx), errNoPrompt) && ctx.Err() == nil {
		f.abort(errNoPrompt)
		select { // bounded: the login's goroutine sees the cancellation at once
		case <-f.done:
		case <-time.After(time.Second):
		}
		return nil, errNoPrompt
	}
	return pr, err
}

// resume handles a retry answering the login f showed. It returns nil when
// the login succeeded and the call can go on.
func (a *Auth) resume(ctx context.Context, cs *callState, state string, answer *Answer) *Result {
	f := a.lookupFlow(state)
	if f == nil {
		return staleResult()
	}
	p := f.p
	if !p.current(f) {
		// Superseded by a newer login: only a success still counts.
		if !f.finished() {
			return staleResult()
		}
		if _, err := f.result(); err != nil {
			return staleResult()
		}
		return nil
	}
	if answer == nil {
		return errorResult("mcpauth: the login answer could not be read")
	}
	f.markResumed()
	switch answer.Action {
	case ActionAccept:
	case ActionDecline, ActionCancel:
		f.abort(fmt.Errorf("%w (%s)", ErrDeclined, answer.Action))
		select { // let the next call start a fresh login
		case <-f.done:
		case <-ctx.Done():
		}
		a.logger.Info("mcpauth: the user declined the login", "provider", p.cfg.Name, "action", answer.Action)
		return a.failure(cs.c, p, nil, ErrDeclined)
	default:
		return errorResult(fmt.Sprintf("mcpauth: unknown answer %q to the login request", answer.Action))
	}
	pr := f.shownPrompt()
	if _, err := f.wait(ctx, cs.waitBound(), cs.progressFunc(ctx, f)); err != nil {
		return a.failure(cs.c, p, pr, err)
	}
	if f.stepUp {
		cs.markSteppedUp(p.cfg.Name)
	}
	// MCP 2025-11-25: notifications/elicitation/complete goes out before
	// the result of the call that showed the elicitation.
	a.waitElicitationComplete(ctx, f.elicitedIDs())
	return nil
}

func staleResult() *Result {
	return errorResult(ErrStaleFlow.Error() + " (it was answered, replaced by a newer one, or has ended); call the tool again to start a new login")
}

// waitBound is how long this call may wait for a login: WaitTimeout when
// the caller sent a progressToken (progress keeps its request alive),
// QuietWait otherwise, so it answers before the client gives up on it.
func (cs *callState) waitBound() time.Duration {
	if cs.c.progressToken != nil {
		return cs.a.opts.WaitTimeout
	}
	return cs.a.opts.QuietWait
}

// progressFunc returns the progress reporter of a call waiting for the
// login f of p, or nil when the caller asked for no progress (no
// progressToken) or cannot be reached.
func (cs *callState) progressFunc(ctx context.Context, f *flow) func() {
	token, peer := cs.c.progressToken, cs.c.peer
	if token == nil || peer == nil {
		return nil
	}
	msg := progressMessage(f)
	return func() { f.sendProgress(ctx, peer, token, msg) }
}

func progressMessage(f *flow) string {
	msg := "Waiting for you to finish logging in to " + f.p.cfg.DisplayName
	if pr := f.shownPrompt(); pr != nil && pr.userCode != "" {
		msg += " (code " + pr.userCode + ")"
	}
	return msg
}

// keepAlive reports progress on a 2025-11-25 call whose login is being
// shown as an elicitation: the SDK sends elicitation/create within the
// request and waits for the user, and progress keeps the host from timing
// the request out meanwhile. It stops when the retry carrying the answer
// arrives (it reports progress itself), when the login ends, or after the
// wait bound.
func (cs *callState) keepAlive(f *flow) {
	token, peer := cs.c.progressToken, cs.c.peer
	if token == nil || peer == nil || cs.c.modern() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cs.a.opts.WaitTimeout)
	go func() {
		defer cancel()
		f.reportProgress(ctx, peer, token, progressMessage(f), f.resumed)
	}()
}

// Token returns the access token of the named provider for the protected
// tool call running in ctx, refreshed if it was about to expire. The copy
// it returns has no refresh token. Never put it in a tool result or a log.
func Token(ctx context.Context, providerName string) (*provider.Token, error) {
	cs, ok := ctx.Value(callKey{}).(*callState)
	if !ok {
		return nil, ErrNotProtected
	}
	return cs.a.CurrentToken(ctx, providerName)
}

// CurrentToken returns the named provider's access token as it stands —
// in memory or in a persistent store, refreshed if it was about to expire —
// without starting a login: with none, an error matching
// provider.ErrNoToken (or provider.ErrRefreshFailed). It is for adapters
// that pass the token on outside a tool call (mcpauth wrap starts the
// wrapped server with it); a tool handler uses Token. The copy has no
// refresh token.
func (a *Auth) CurrentToken(ctx context.Context, providerName string) (*provider.Token, error) {
	p, err := a.provider(providerName)
	if err != nil {
		return nil, err
	}
	tok, err := p.token(ctx)
	if err != nil {
		return nil, err
	}
	c := *tok
	c.RefreshToken = ""
	c.Scopes = slices.Clone(tok.Scopes)
	return &c, nil
}
