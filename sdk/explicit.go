package sdk

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// Names of the tools explicit mode adds.
const (
	ToolLogin  = "auth_login"
	ToolStatus = "auth_status"
	ToolLogout = "auth_logout"
)

// AccountAdd is the auth_login account argument that logs in another
// account of a provider beside the one logged in.
const AccountAdd = "add"

// listChangedWait bounds how long auth_login and auth_logout wait for
// notifications/tools/list_changed to be written before their result.
const listChangedWait = 2 * time.Second

// AuthTool describes one of the tools mcpauth adds (auth_login,
// auth_status, auth_logout). An adapter turns it into its SDK's tool, whose
// handler calls CallAuthTool.
type AuthTool struct {
	Name        string
	Description string
	// InputSchema is the JSON Schema of the arguments (type object).
	InputSchema map[string]any
	// The tool's annotations (MCP ToolAnnotations hints).
	ReadOnly, Destructive, Idempotent, OpenWorld bool
}

// AuthTools describes the tools mcpauth may list; which of them are listed
// at a time is the core's decision (ToolList).
func (a *Auth) AuthTools() []AuthTool {
	names := slices.Clone(a.order)
	return []AuthTool{
		{
			Name: ToolLogin,
			Description: "Log in to " + strings.Join(names, " or ") + " so that this server's tools can act for you. " +
				"Shows a login link to the user; the tools that need the login appear once it is done.",
			InputSchema: objectSchema(map[string]any{
				"provider": map[string]any{"type": "string", "description": "Which provider to log in to; default: the first one not logged in.", "enum": names},
				"scopes":   map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "Further OAuth scopes to ask for now; only scopes this server's tools need are accepted."},
				"account":  map[string]any{"type": "string", "enum": []string{AccountAdd}, "description": `"add": log in another account of the provider even when one is logged in; it becomes the one the tools use, the others stay (auth_status lists them, auth_logout forgets one).`},
			}),
			// Logging in again changes nothing the user did not approve.
			Idempotent: true, OpenWorld: true,
		},
		{
			Name:        ToolStatus,
			Description: "Which providers this server is logged in to, as whom, with which scopes, until when. Never shows a token.",
			InputSchema: objectSchema(map[string]any{}),
			ReadOnly:    true, Idempotent: true,
		},
		{
			Name:        ToolLogout,
			Description: "Log out of a provider (default: all): the token is revoked at the issuer where it offers revocation, forgotten here and in the token store, and the tools that need it disappear.",
			InputSchema: objectSchema(map[string]any{
				"provider": map[string]any{"type": "string", "description": "Which provider to log out of; default: all.", "enum": names},
				"account":  map[string]any{"type": "string", "description": "Which account to log out (its name as auth_status shows it); default: every account of the provider."},
			}),
			Destructive: true, Idempotent: true, OpenWorld: true,
		},
	}
}

func objectSchema(props map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": props}
}

// CallAuthTool runs the auth tool name for the call req with its arguments.
func (a *Auth) CallAuthTool(ctx context.Context, name string, req *Request, args map[string]any) *Result {
	if !a.served.Load() {
		a.served.Store(true) // once: no write to a shared word on every call
	}
	switch name {
	case ToolLogin:
		needs, err := a.loginNeeds(args)
		if err != nil {
			return errorResult(err.Error())
		}
		var out *Result
		if res := a.Call(ctx, req, needs, func(ctx context.Context) error {
			out = a.loginDone(ctx, needs)
			return nil
		}); res != nil {
			return res
		}
		return out
	case ToolStatus:
		return a.status(ctx)
	case ToolLogout:
		return a.logout(ctx, args)
	}
	return errorResult(fmt.Sprintf("mcpauth: no auth tool %q (there are %s, %s, %s)", name, ToolLogin, ToolStatus, ToolLogout))
}

// stringArg reads a string argument; a missing one or one of another type
// reads as "".
func stringArg(args map[string]any, key string) string {
	s, _ := args[key].(string)
	return s
}

// stringsArg reads an array of strings; other members are skipped.
func stringsArg(args map[string]any, key string) []string {
	var out []string
	switch v := args[key].(type) {
	case []string:
		out = slices.Clone(v)
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// loginNeeds reads auth_login's arguments as a Requirement.
func (a *Auth) loginNeeds(args map[string]any) ([]Requirement, error) {
	name := stringArg(args, "provider")
	if name == "" {
		name = a.order[0]
		for _, n := range a.order {
			if !a.providers[n].isEnabled() {
				name = n
				break
			}
		}
	}
	if a.providers[name] == nil {
		return nil, fmt.Errorf("%w %q; configured: %s", ErrUnknownProvider, name, strings.Join(a.order, ", "))
	}
	add := false
	switch acct := stringArg(args, "account"); acct {
	case "":
	case AccountAdd:
		add = true
	default:
		return nil, fmt.Errorf("mcpauth: %s: account %q: want %q (log in another account), or leave it out", ToolLogin, acct, AccountAdd)
	}
	scopes := stringsArg(args, "scopes")
	// The model chooses these arguments: it may only ask for scopes the
	// server's own tools declare (or the provider's configured ones), never
	// widen the grant to whatever a prompt injection names.
	allowed := a.declaredScopes(name)
	for _, s := range scopes {
		if !slices.Contains(allowed, s) {
			return nil, fmt.Errorf("mcpauth: %s: scope %q is not one this server's tools need (they need: %s); it was not requested",
				ToolLogin, s, orNone(allowed))
		}
	}
	return []Requirement{{Provider: name, Scopes: scopes, addAccount: add}}, nil
}

// declaredScopes are the scopes a login to the provider may ask for: the
// provider's configured scopes and those its protected tools Need.
func (a *Auth) declaredScopes(name string) []string {
	out := slices.Clone(a.providers[name].cfg.Scopes)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tools {
		for _, n := range t.needs {
			if n.Provider == name {
				out = append(out, n.Scopes...)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// loginDone runs once auth_login has its token: the protected tools are
// added, and list_changed is on the wire before this result.
func (a *Auth) loginDone(ctx context.Context, needs []Requirement) *Result {
	p := a.providers[needs[0].Provider]
	p.mu.Lock()
	p.enabled = true
	p.mu.Unlock()
	a.syncTools()
	a.waitListChanged(ctx)
	return &Result{Text: a.describe(p) + "\nTools available now: " + strings.Join(a.toolsOf(p), ", ") + "."}
}

func (a *Auth) status(ctx context.Context) *Result {
	var b strings.Builder
	for _, name := range a.order {
		p := a.providers[name]
		if p.pickUp(ctx) { // a login stored by another process or an earlier run
			p.mu.Lock()
			p.enabled = true
			p.mu.Unlock()
		}
		b.WriteString(a.describe(p))
		if others := a.otherAccounts(ctx, p); others != "" {
			b.WriteString(" " + others)
		}
		b.WriteString("\n")
	}
	a.syncTools()
	a.waitListChanged(ctx)
	return &Result{Text: strings.TrimSpace(b.String())}
}

// otherAccounts names p's stored logins besides the one in use.
func (a *Auth) otherAccounts(ctx context.Context, p *providerState) string {
	accts, err := p.accounts(ctx)
	if err != nil {
		return "(the stored logins could not be read)"
	}
	p.mu.Lock()
	key, ok := p.key, p.loggedIn
	p.mu.Unlock()
	var names []string
	for _, acct := range accts {
		if !ok || acct.Key != key {
			names = append(names, orUnknown(acct.DisplayName))
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "Other accounts logged in: " + strings.Join(names, ", ") + "."
}

func (a *Auth) logout(ctx context.Context, args map[string]any) *Result {
	names := a.order
	if n := stringArg(args, "provider"); n != "" {
		if a.providers[n] == nil {
			return errorResult(a.unknownProvider(n).Error())
		}
		names = []string{n}
	}
	account := stringArg(args, "account")
	if account != "" && len(names) > 1 {
		return errorResult(fmt.Sprintf("mcpauth: %s: name the provider of the account %q (one of %s)", ToolLogout, account, strings.Join(names, ", ")))
	}
	var out []string
	var errs []string
	for _, n := range names {
		p := a.providers[n]
		done, err := p.logout(ctx, account)
		if len(done) > 0 {
			out = append(out, describeLogout(p.cfg.DisplayName, done))
		}
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	a.syncTools()
	a.waitListChanged(ctx)
	if len(errs) > 0 {
		return errorResult(strings.Join(append(out, errs...), "\n"))
	}
	if len(out) == 0 {
		return &Result{Text: "Not logged in; nothing to forget."}
	}
	return &Result{Text: "Logged out: " + strings.Join(out, "\n") + "."}
}

// describe says who is logged in to p, never showing a token.
func (a *Auth) describe(p *providerState) string {
	p.mu.Lock()
	key, ok, who, f := p.key, p.loggedIn, p.who, p.flow
	p.mu.Unlock()
	name := p.cfg.DisplayName
	if !ok {
		if f != nil && !f.finished() {
			return name + ": login in progress."
		}
		return name + ": not logged in."
	}
	tok, found := p.store.Peek(key)
	if !found {
		return name + ": not logged in."
	}
	if who == "" {
		who = "an unidentified user"
	}
	s := fmt.Sprintf("%s: logged in as %s, scopes %q", name, who, strings.Join(tok.Scopes, " "))
	if !tok.Expiry.IsZero() {
		s += ", access token valid until " + tok.Expiry.UTC().Format(time.RFC3339)
	}
	if tok.RefreshToken != "" {
		s += ", renewed automatically"
	}
	return s + "."
}

func (p *providerState) isEnabled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.enabled
}

// toolsOf lists the protected tools that need p.
func (a *Auth) toolsOf(p *providerState) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var names []string
	for _, t := range a.tools {
		if slices.ContainsFunc(t.needs, func(r Requirement) bool { return r.Provider == p.cfg.Name }) {
			names = append(names, t.name)
		}
	}
	return names
}

// listedNow says which tools should be listed now: the protected tools by
// mode and (with FilterToolsByScope) granted scopes, and the auth tools.
func (a *Auth) listedNow(tools []protectedTool) map[string]bool {
	type state struct {
		enabled, hasToken bool
		scopes            []string
	}
	st := map[string]state{}
	anyOn := false
	for name, p := range a.providers {
		p.mu.Lock()
		s := state{enabled: p.enabled, hasToken: p.loggedIn}
		key := p.key
		p.mu.Unlock()
		if s.hasToken {
			if t, ok := p.store.Peek(key); ok {
				s.scopes = t.Scopes
			} else {
				s.hasToken = false
			}
		}
		st[name] = s
		anyOn = anyOn || s.enabled
	}
	granted := func(n Requirement) bool {
		s := st[n.Provider]
		return (&provider.Token{Scopes: s.scopes}).HasScopes(n.Scopes)
	}
	explicit, filter := a.opts.Mode == Explicit, a.opts.FilterToolsByScope
	want := map[string]bool{}
	for _, t := range tools {
		on := true
		for _, n := range t.needs {
			s := st[n.Provider]
			switch {
			case explicit && !s.enabled:
				on = false
			case filter && s.hasToken && !granted(n):
				on = false
			}
		}
		want[t.name] = on
	}
	lazyTools := !explicit && !a.opts.HideAuthTools
	want[ToolLogin] = explicit || (filter && lazyTools)
	want[ToolStatus] = explicit || lazyTools
	want[ToolLogout] = (explicit && anyOn) || lazyTools
	return want
}

// syncTools brings the adapter's tool list in line with listedNow; the
// adapter sends notifications/tools/list_changed for the change.
func (a *Auth) syncTools() {
	a.mu.Lock()
	l, tools, out := a.list, slices.Clone(a.tools), a.out
	a.mu.Unlock()
	if l == nil {
		return
	}
	want := a.listedNow(tools)

	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	var show, hide []string
	for name, on := range want {
		switch {
		case on && !a.listed[name]:
			show = append(show, name)
		case !on && a.listed[name]:
			hide = append(hide, name)
		}
	}
	if len(show) == 0 && len(hide) == 0 {
		return
	}
	slices.Sort(show)
	slices.Sort(hide)
	before := out.listChangedCount()
	n := l.ChangeTools(show, hide)
	for _, name := range show {
		a.listed[name] = true
	}
	for _, name := range hide {
		delete(a.listed, name)
	}
	if n > 0 && a.served.Load() {
		// Only once a client called: before that no session is there to
		// be notified, and nothing waits.
		a.listChangedTarget = max(a.listChangedTarget, before+uint64(n))
	}
	if a.served.Load() {
		a.logger.Info("mcpauth: tool list changed", "listed", show, "unlisted", hide)
	}
}

// waitListChanged waits (bounded) until every list_changed notification
// syncTools caused has been written to the client, so that a tool result
// sent afterwards follows it on the wire. Without Stdio's writer there is
// nothing to observe, and it returns at once.
func (a *Auth) waitListChanged(ctx context.Context) {
	a.syncMu.Lock()
	target := a.listChangedTarget
	a.syncMu.Unlock()
	a.mu.Lock()
	out := a.out
	a.mu.Unlock()
	if out != nil {
		out.waitListChanged(ctx, target, listChangedWait)
	}
}

// waitElicitationComplete waits (bounded) until the completion
// notifications of ids have been written, so the result of the call that
// showed those elicitations follows them on the wire. Without Stdio's
// writer there is nothing to observe, and it returns at once.
func (a *Auth) waitElicitationComplete(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	a.mu.Lock()
	out := a.out
	a.mu.Unlock()
	if out != nil {
		out.waitCompleted(ctx, ids, listChangedWait)
	}
}
