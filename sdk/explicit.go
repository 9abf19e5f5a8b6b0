package sdk

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
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

func (a *Auth) addAuthTools(s *server.MCPServer) {
	names := slices.Clone(a.order)
	login := mcp.NewTool(ToolLogin,
		mcp.WithDescription("Log in to "+strings.Join(names, " or ")+" so that this server's tools can act for you. "+
			"Shows a login link to the user; the tools that need the login appear once it is done."),
		mcp.WithString("provider", mcp.Description("Which provider to log in to; default: the first one not logged in."), mcp.Enum(names...)),
		mcp.WithArray("scopes", mcp.Description("Further OAuth scopes to ask for now; only scopes this server's tools need are accepted."), mcp.WithStringItems()),
		mcp.WithString("account", mcp.Description(`"add": log in another account of the provider even when one is logged in; it becomes the one the tools use, the others stay (auth_status lists them, auth_logout forgets one).`), mcp.Enum(AccountAdd)),
		// mcp-go's defaults call every tool destructive and open-world:
		// each auth tool says what it is.
		mcp.WithReadOnlyHintAnnotation(false), mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true), mcp.WithOpenWorldHintAnnotation(true),
	)
	s.AddTool(login, a.wrap(a.loginDone, a.loginNeeds))
	status := mcp.NewTool(ToolStatus,
		mcp.WithDescription("Which providers this server is logged in to, as whom, with which scopes, until when. Never shows a token."),
		mcp.WithReadOnlyHintAnnotation(true), mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(true), mcp.WithOpenWorldHintAnnotation(false),
	)
	s.AddTool(status, a.status)
}

func (a *Auth) logoutTool() server.ServerTool {
	return server.ServerTool{
		Tool: mcp.NewTool(ToolLogout,
			mcp.WithDescription("Log out of a provider (default: all): the token is revoked at the issuer where it offers revocation, forgotten here and in the token store, and the tools that need it disappear."),
			mcp.WithString("provider", mcp.Description("Which provider to log out of; default: all."), mcp.Enum(slices.Clone(a.order)...)),
			mcp.WithString("account", mcp.Description("Which account to log out (its name as auth_status shows it); default: every account of the provider.")),
			mcp.WithReadOnlyHintAnnotation(false), mcp.WithDestructiveHintAnnotation(true),
			mcp.WithIdempotentHintAnnotation(true), mcp.WithOpenWorldHintAnnotation(true),
		),
		Handler: a.logout,
	}
}

// loginNeeds reads auth_login's arguments as a Requirement.
func (a *Auth) loginNeeds(req mcp.CallToolRequest) ([]Requirement, error) {
	name := req.GetString("provider", "")
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
	switch acct := req.GetString("account", ""); acct {
	case "":
	case AccountAdd:
		add = true
	default:
		return nil, fmt.Errorf("mcpauth: %s: account %q: want %q (log in another account), or leave it out", ToolLogin, acct, AccountAdd)
	}
	scopes := req.GetStringSlice("scopes", nil)
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
func (a *Auth) loginDone(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	needs, _ := a.loginNeeds(req)
	p := a.providers[needs[0].Provider]
	p.mu.Lock()
	p.enabled = true
	p.mu.Unlock()
	a.syncTools()
	a.waitListChanged(ctx)
	return mcp.NewToolResultText(a.describe(p) + "\nTools available now: " + strings.Join(a.toolsOf(p), ", ") + "."), nil
}

func (a *Auth) status(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
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
	return mcp.NewToolResultText(strings.TrimSpace(b.String())), nil
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

func (a *Auth) logout(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	names := a.order
	if n := req.GetString("provider", ""); n != "" {
		if a.providers[n] == nil {
			return mcp.NewToolResultErrorf("%v %q", ErrUnknownProvider, n), nil
		}
		names = []string{n}
	}
	account := req.GetString("account", "")
	if account != "" && len(names) > 1 {
		return mcp.NewToolResultErrorf("mcpauth: %s: name the provider of the account %q (one of %s)", ToolLogout, account, strings.Join(names, ", ")), nil
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
		return mcp.NewToolResultError(strings.Join(append(out, errs...), "\n")), nil
	}
	if len(out) == 0 {
		return mcp.NewToolResultText("Not logged in; nothing to forget."), nil
	}
	return mcp.NewToolResultText("Logged out: " + strings.Join(out, "\n") + "."), nil
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
			names = append(names, t.tool.Name)
		}
	}
	return names
}

// syncTools lists, in explicit mode, the protected tools whose providers
// are all logged in, and auth_logout when any is; mcp-go sends
// notifications/tools/list_changed for every change.
func (a *Auth) syncTools() {
	a.mu.Lock()
	s, tools, out := a.srv, slices.Clone(a.tools), a.out
	a.mu.Unlock()
	if s == nil || a.opts.Mode != Explicit {
		return
	}
	enabled := map[string]bool{}
	anyOn := false
	for name, p := range a.providers {
		enabled[name] = p.isEnabled()
		anyOn = anyOn || enabled[name]
	}

	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	var add []server.ServerTool
	var del []string
	for _, t := range tools {
		want := !slices.ContainsFunc(t.needs, func(r Requirement) bool { return !enabled[r.Provider] })
		switch {
		case want && !a.listed[t.tool.Name]:
			add = append(add, server.ServerTool{Tool: t.tool, Handler: t.handler})
		case !want && a.listed[t.tool.Name]:
			del = append(del, t.tool.Name)
		}
	}
	switch {
	case anyOn && !a.listed[ToolLogout]:
		add = append(add, a.logoutTool())
	case !anyOn && a.listed[ToolLogout]:
		del = append(del, ToolLogout)
	}
	before := out.listChangedCount()
	sent := uint64(0)
	if len(add) > 0 {
		s.AddTools(add...)
		sent++
		for _, t := range add {
			a.listed[t.Tool.Name] = true
		}
	}
	if len(del) > 0 {
		s.DeleteTools(del...)
		sent++
		for _, n := range del {
			delete(a.listed, n)
		}
	}
	if sent > 0 {
		a.listChangedTarget = max(a.listChangedTarget, before+sent)
		a.logger.Info("mcpauth: tool list changed", "added", len(add), "removed", del)
	}
}

// waitListChanged waits (bounded) until every list_changed notification
// syncTools caused has been written to the client, so that a tool result
// sent afterwards follows it on the wire.
func (a *Auth) waitListChanged(ctx context.Context) {
	a.syncMu.Lock()
	target := a.listChangedTarget
	a.syncMu.Unlock()
	a.mu.Lock()
	out := a.out
	a.mu.Unlock()
	if out != nil {
		out.waitListChanged(ctx, target, listChangedWait)
		return
	}
	// Not served by ServeStdio: wait until mcp-go's notification queue
	// for this session is drained, which is close to, not exactly, written.
	session := server.ClientSessionFromContext(ctx)
	if session == nil {
		return
	}
	deadline := time.Now().Add(listChangedWait)
	for len(session.NotificationChannel()) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond)
}

// waitElicitationComplete waits (bounded) until the completion
// notifications of ids have been written, so the result of the call that
// showed those elicitations follows them on the wire. Without ServeStdio's
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
