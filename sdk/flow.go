package sdk

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// providerState is one configured provider: its token key and its login.
type providerState struct {
	a     *Auth
	cfg   *registry.Provider
	store *tokenstore.Store // per cfg.Store: memory, keychain or file

	mu       sync.Mutex
	key      tokenstore.Key
	loggedIn bool            // a token is stored under key
	enabled  bool            // explicit mode: logged in and not logged out
	driver   provider.Driver // the driver that issued the token (refresh)
	who      string          // display name or subject of the user
	user     string          // subject of the logged-in user; "" if unknown or logged out
	apis     []apiPrefix     // where the token may be sent (see apiPrefixes)
	flow     *flow           // the latest login, running or finished
	rebound  map[string]provider.Driver
}

// token returns a valid token, refreshed if needed. It fails with an error
// matching provider.ErrNoToken or provider.ErrRefreshFailed when a login
// is needed.
func (p *providerState) token(ctx context.Context) (*provider.Token, error) {
	p.mu.Lock()
	key, ok, d := p.key, p.loggedIn, p.driver
	p.mu.Unlock()
	if !ok && p.pickUp(ctx) {
		p.mu.Lock()
		key, ok, d = p.key, p.loggedIn, p.driver
		p.mu.Unlock()
	}
	if !ok {
		return nil, fmt.Errorf("mcpauth: %s: %w", p.cfg.Name, provider.ErrNoToken)
	}
	r, _ := d.(provider.Refresher)
	tok, err := p.store.Token(ctx, key, r)
	if errors.Is(err, provider.ErrRefreshFailed) || errors.Is(err, provider.ErrNoToken) {
		p.mu.Lock()
		if p.key == key {
			p.loggedIn = false
		}
		p.mu.Unlock()
		p.a.logger.Warn("mcpauth: token expired and could not be refreshed; the next call logs in again",
			"provider", p.cfg.Name, "err", err)
		p.a.syncTools()
	}
	return tok, err
}

// rejected drops tok when its API answered 401 invalid_token (RFC 6750
// §3.1) and it has no expiry to run out (a GitHub OAuth App token, revoked
// at the provider): nothing else would ever replace it, so the next call
// logs in again. A token with an expiry is left to refresh as usual.
func (p *providerState) rejected(ctx context.Context, tok *provider.Token) {
	if !tok.Expiry.IsZero() {
		return
	}
	p.mu.Lock()
	key, ok := p.key, p.loggedIn
	p.mu.Unlock()
	cur, found := p.store.Peek(key)
	if !ok || !found || cur.AccessToken != tok.AccessToken {
		return // already replaced
	}
	p.store.Remove(ctx, key)
	p.mu.Lock()
	if p.key == key {
		p.loggedIn = false
	}
	p.mu.Unlock()
	p.a.logger.Warn("mcpauth: the API refused the token as invalid (401 invalid_token); it is dropped and the next call logs in again",
		"provider", p.cfg.Name)
	p.a.syncTools()
}

// baseScopes are the scopes every login of p asks for.
func (p *providerState) baseScopes() []string {
	if len(p.cfg.Scopes) > 0 {
		return p.cfg.Scopes
	}
	return p.cfg.Driver.Describe().DefaultScopes
}

// startOrJoin returns the login in flight for p if it asks for at least
// scopes, or starts one. A login in flight that asks for fewer scopes is
// returned too (started false): the caller waits for it and then asks again,
// rather than disturbing a user who is in the middle of approving it.
//
// With add, the login is for another account: a stored login is not
// adopted, and the user it returns becomes the default account beside the
// ones already logged in (rather than being refused as ErrOtherUser).
func (p *providerState) startOrJoin(c caller, scopes []string, stepUp, add bool) (f *flow, started bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// A stopped login (its context cancelled) is not joined even while its
	// goroutine is still stuck in a driver call: the next call starts over.
	if f := p.flow; f != nil && !f.finished() && f.ctx.Err() == nil {
		return f, false
	}
	want := union(p.baseScopes(), scopes)
	if p.loggedIn && !add {
		// Keep what the user already granted: a step-up adds scopes.
		if t, ok := p.store.Peek(p.key); ok {
			want = union(want, t.Scopes)
		}
	}
	f = p.a.newFlow(p, want, stepUp)
	f.need, f.add = scopes, add
	p.flow = f
	go f.run(c)
	return f, true
}

// current reports whether f is p's latest login.
func (p *providerState) current(f *flow) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flow == f
}

var (
	errLoggedOut   = errors.New("mcpauth: logged out")
	errFlowTooLong = errors.New("mcpauth: the login took too long")
)

// loggedInWith stores tok from d under its key. A login that returns
// another user than the one p is logged in as (a step-up or a re-login
// approved with another account) is refused: the new token is not swapped
// in under the old user's name, nor mixed with the old one (MCP
// elicitation rule: bind the flow to the user who started it). An
// explicit logout clears the user, after which any account may log in.
//
// With add (a login for another account), the other user is welcome: the
// new login becomes the default account and the previous ones stay.
//
// The token is saved in p's store; with a persistent one, every server
// process of the user (and the next run) finds it there.
func (p *providerState) loggedInWith(ctx context.Context, d provider.Driver, meta *provider.AuthServerMetadata, tok *provider.Token, add bool) error {
	subject, who := "", ""
	if id, ok := d.(provider.Identifier); ok {
		ident, err := id.Identity(ctx, tok)
		if err != nil {
			p.a.logger.Info("mcpauth: logged in, but the user's identity is unknown", "provider", p.cfg.Name, "err", err)
		} else {
			subject, who = ident.Subject, ident.DisplayName
			if who == "" {
				who = subject
			}
		}
	}
	key := tokenstore.Key{Provider: p.cfg.Name, Issuer: meta.Issuer, ClientID: d.Describe().ClientID, Subject: subject}
	p.mu.Lock()
	if prev := p.user; !add && prev != "" && prev != subject {
		prevWho := orUnknown(p.who)
		p.mu.Unlock()
		if subject == "" {
			return fmt.Errorf("%w: %s is logged in as %s, and the new login's user is unknown; the new token was not used; log out first (%s) to change users",
				ErrOtherUser, p.cfg.DisplayName, prevWho, ToolLogout)
		}
		return fmt.Errorf("%w: %s is logged in as %s, but the login was approved as %s; the new token was not used; log out first (%s) to change users",
			ErrOtherUser, p.cfg.DisplayName, prevWho, who, ToolLogout)
	}
	p.mu.Unlock()
	if err := p.store.Save(ctx, key, tok, who); err != nil {
		p.a.logger.Warn("mcpauth: logged in, but the login is kept in memory only and will not survive a restart",
			"provider", p.cfg.Name, "err", err)
	}
	p.mu.Lock()
	if p.loggedIn && p.key != key && !add && (p.key.Subject == "" || p.key.Subject == subject) {
		// The same user's login under a new key (the user now known, another
		// client_id): the old one is stale.
		p.store.Delete(p.key)
	}
	p.key, p.loggedIn, p.enabled, p.driver, p.who, p.user = key, true, true, d, who, subject
	p.apis = p.apiPrefixes(d, meta)
	p.mu.Unlock()
	p.a.logger.Info("mcpauth: logged in", "provider", p.cfg.Name, "user", who,
		"scopes", tok.Scopes, "expiry", tok.Expiry, "refreshable", tok.RefreshToken != "")
	return nil
}

func orUnknown(who string) string {
	if who == "" {
		return "an unidentified user"
	}
	return who
}

// prompt is what the user must see to log in.
type prompt struct {
	grant provider.Grant
	// url is the device grant's verification_uri or the PKCE authorization
	// URL: the authorization server's own, with its host checked.
	url      string
	userCode string    // device grant only
	expires  time.Time // zero if unknown
}

// flow is one login of one provider, running in the background so that it
// survives the tool call that started it. Every call that needs the
// provider meanwhile joins it.
type flow struct {
	id      string // opaque, random: the requestState of retries
	p       *providerState
	scopes  []string // everything the login asks for
	need    []string // the scopes its caller needs (a stored login must have them)
	stepUp  bool
	add     bool // a login for another account (see startOrJoin)
	started time.Time

	ctx    context.Context
	cancel context.CancelCauseFunc
	ready  chan struct{} // closed once the prompt is known or the flow ended
	done   chan struct{}

	mu          sync.Mutex
	prompt      *prompt
	tok         *provider.Token
	err         error
	resumed     chan struct{}   // closed by the first retry answering the prompt
	lastSent    map[any]float64 // progress last sent per progressToken (must increase)
	completions []func()        // legacy URL elicitations to complete on success
	elicited    []string        // their elicitationIds
}

func (a *Auth) newFlow(p *providerState, scopes []string, stepUp bool) *flow {
	base, cancelCause := context.WithCancelCause(context.Background())
	ctx, cancelTimeout := context.WithTimeoutCause(base, maxFlowLifetime, errFlowTooLong)
	f := &flow{
		id:       randomID(),
		p:        p,
		scopes:   scopes,
		stepUp:   stepUp,
		started:  a.opts.Now(),
		ctx:      ctx,
		cancel:   func(cause error) { cancelCause(cause); cancelTimeout() },
		ready:    make(chan struct{}),
		done:     make(chan struct{}),
		resumed:  make(chan struct{}),
		lastSent: map[any]float64{},
	}
	a.mu.Lock()
	a.pruneFlows()
	a.flows[f.id] = f
	a.mu.Unlock()
	return f
}

// pruneFlows forgets logins that ended long ago; a.mu must be held. A retry
// naming one of them is then refused as stale.
func (a *Auth) pruneFlows() {
	now := a.opts.Now()
	for id, f := range a.flows {
		if f.finished() && now.Sub(f.started) > maxFlowLifetime {
			delete(a.flows, id)
		}
	}
}

func (a *Auth) lookupFlow(id string) *flow {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.flows[id]
}

// run performs the login through login.Login and records the result.
func (f *flow) run(c caller) {
	p, a := f.p, f.p.a
	tok, err := f.login(c)
	if cause := context.Cause(f.ctx); err != nil && cause != nil && !errors.Is(err, cause) {
		err = fmt.Errorf("%w (%w)", cause, err)
	}
	if err != nil {
		a.logger.Warn("mcpauth: login failed", "provider", p.cfg.Name, "err", err)
	} else {
		// Before done: calls joining this login find the tools listed.
		a.syncTools()
	}
	f.mu.Lock()
	f.tok, f.err = tok, err
	completions := f.completions
	f.completions = nil
	if f.prompt == nil {
		close(f.ready)
	}
	if err == nil {
		// notifications/elicitation/complete, queued before the tool
		// results of the calls waiting for this login.
		for _, complete := range completions {
			complete()
		}
	}
	close(f.done)
	f.mu.Unlock()
	f.cancel(nil)
}

func (f *flow) login(c caller) (*provider.Token, error) {
	p, a := f.p, f.p.a
	ctx := f.ctx
	d := p.driverFor(ctx, a.cimdFor(p, c))
	meta, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	// One login at a time per provider, issuer and client, across every
	// server process of the user sharing the store: a second process waits
	// here, then finds the first one's login instead of prompting again.
	// The lock is released when the login ends (or the process dies).
	unlock, err := p.store.LockLogin(ctx, p.clientKey(d, meta))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if !f.add && p.adoptStored(ctx, d, meta, f.need) {
		return p.token(ctx)
	}
	desc := d.Describe()
	shownHosts := append(slices.Clone(p.cfg.VerificationHosts), desc.VerificationHosts...)
	pref := login.GrantPreference(p.cfg.Grant)
	if c.kind() == ElicitForm && pref == login.PreferAuto &&
		desc.Offers(provider.GrantDevice) && meta.Offers(provider.GrantDevice) {
		// A form cannot carry a link: the user types the verification URI
		// and the code, which only the device grant works with.
		pref = login.PreferDevice
	}
	login := &login.Login{
		Preference: pref,
		Env:        a.opts.Env,
		Logger:     a.logger,
		Device:     login.DevicePoller{Now: a.opts.Now},
		Loopback: login.Loopback{
			Port:         p.cfg.LoopbackPort,
			RedirectHost: cmp.Or(p.cfg.LoopbackHost, desc.LoopbackHost),
			Timeout:      login.DefaultLoginTimeout,
			Open: func(ctx context.Context, authURL string) error {
				if err := checkShownURL(meta.Issuer, authURL, shownHosts); err != nil {
					return err
				}
				f.show(&prompt{grant: provider.GrantPKCE, url: authURL, expires: a.opts.Now().Add(login.DefaultLoginTimeout)})
				a.openBrowser(ctx, p, c, authURL)
				return nil
			},
		},
		ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error {
			if err := checkShownURL(meta.Issuer, da.VerificationURI, shownHosts); err != nil {
				return err
			}
			a.logger.Info("mcpauth: device login started", "provider", p.cfg.Name,
				"verification_uri", da.VerificationURI, "user_code", da.UserCode, "expires", da.ExpiresAt)
			f.show(&prompt{grant: provider.GrantDevice, url: da.VerificationURI, userCode: da.UserCode, expires: da.ExpiresAt})
			return nil
		},
	}
	tok, err := login.Run(ctx, d, f.scopes)
	if err != nil {
		return nil, err
	}
	if err := p.loggedInWith(ctx, d, meta, tok, f.add); err != nil {
		return nil, err
	}
	return tok, nil
}

// show records the prompt and wakes the call waiting to present it.
func (f *flow) show(pr *prompt) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.prompt == nil {
		f.prompt = pr
		close(f.ready)
	}
}

// progressEvery is how often a call waiting for a login reports progress:
// MCP hosts reset their request timeout on progress, and the bound
// is at least every 10 s from the moment the prompt is shown.
const progressEvery = 5 * time.Second

// sendProgress sends one notifications/progress for token through peer:
// the seconds since the login started, strictly increasing per token (the
// waiting call and a keep-alive may both report on it).
func (f *flow) sendProgress(ctx context.Context, peer Peer, token any, msg string) {
	pr := f.shownPrompt()
	f.mu.Lock()
	progress := time.Since(f.started).Seconds()
	if last, ok := f.lastSent[token]; ok && progress <= last {
		progress = last + 0.001
	}
	f.lastSent[token] = progress
	f.mu.Unlock()
	total := 0.0
	if pr != nil && !pr.expires.IsZero() {
		if t := pr.expires.Sub(f.started).Seconds(); t > progress {
			total = t
		}
	}
	if err := peer.NotifyProgress(ctx, token, progress, total, msg); err != nil {
		f.p.a.logger.Debug("mcpauth: progress notification not sent", "err", err)
	}
}

// reportProgress sends progress through peer now and every progressEvery
// until stop is closed, the login ends or ctx is done.
func (f *flow) reportProgress(ctx context.Context, peer Peer, token any, msg string, stop <-chan struct{}) {
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		f.sendProgress(ctx, peer, token, msg)
		select {
		case <-t.C:
		case <-stop:
			return
		case <-f.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// markResumed notes that a retry answered the prompt (see keepAlive).
func (f *flow) markResumed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.resumed:
	default:
		close(f.resumed)
	}
}

// onSuccess registers fn to run when the login succeeds (at once if it has).
func (f *flow) onSuccess(fn func()) {
	f.mu.Lock()
	select {
	case <-f.done:
		ok := f.err == nil
		f.mu.Unlock()
		if ok {
			fn()
		}
		return
	default:
	}
	f.completions = append(f.completions, fn)
	f.mu.Unlock()
}

// elicitedIDs returns the elicitationIds of the URL elicitations shown for f.
func (f *flow) elicitedIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.elicited)
}

func (f *flow) finished() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// result is the outcome of a finished flow.
func (f *flow) result() (*provider.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tok, f.err
}

func (f *flow) shownPrompt() *prompt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.prompt
}

// abort stops the login with cause; waiters get an error matching it.
func (f *flow) abort(cause error) { f.cancel(cause) }

// waitPrompt waits until the prompt is known. It returns the flow's error
// if the flow ended before showing anything.
func (f *flow) waitPrompt(ctx context.Context) (*prompt, error) {
	select {
	case <-f.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if pr := f.shownPrompt(); pr != nil {
		return pr, nil
	}
	_, err := f.result()
	return nil, err
}

// wait waits up to bound for the login to end, calling progress (if not
// nil) at once and every progressEvery meanwhile. ErrStillWaiting means the
// bound passed first.
func (f *flow) wait(ctx context.Context, bound time.Duration, progress func()) (*provider.Token, error) {
	t := time.NewTimer(bound)
	defer t.Stop()
	var tick <-chan time.Time
	if progress != nil {
		progress()
		tk := time.NewTicker(progressEvery)
		defer tk.Stop()
		tick = tk.C
	}
	for {
		select {
		case <-f.done:
			return f.result()
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
			return nil, ErrStillWaiting
		case <-tick:
			progress()
		}
	}
}

func randomID() string {
	b := make([]byte, 18)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// union returns the scopes of a and b, each once, in order.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
