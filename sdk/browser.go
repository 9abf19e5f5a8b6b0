package sdk

import (
	"context"
	"net/url"

	"github.com/mcpauth/mcpauth/internal/browser"
	"github.com/mcpauth/mcpauth/login"
)

// openBrowser opens the authorization URL of a PKCE login in the user's
// browser when the client that started the login cannot show a link
// itself (no URL elicitation) and a desktop browser on this machine is
// likely: never over SSH or in a container, never with Options.NoBrowser.
// What it did, or why not, goes to the log, with the URL's host only (the
// URL carries the login's state).
func (a *Auth) openBrowser(ctx context.Context, p *providerState, c caller, authURL string) {
	if c.kind() == ElicitURL || a.opts.NoBrowser {
		return
	}
	env := login.DetectEnvironment()
	if a.opts.Env != nil {
		env = *a.opts.Env
	}
	host := ""
	if u, err := url.Parse(authURL); err == nil {
		host = u.Host
	}
	ok, why := env.LocalBrowser()
	if !ok {
		a.logger.Info("mcpauth: not opening a browser for the login", "provider", p.cfg.Name, "reason", why)
		return
	}
	open := a.opts.Browser
	if open == nil {
		open = browser.Open
	}
	if err := open(ctx, authURL); err != nil {
		a.logger.Warn("mcpauth: could not open the browser for the login; the link is in the tool result", "provider", p.cfg.Name, "host", host, "err", err)
		return
	}
	a.logger.Info("mcpauth: opened the login page in the browser", "provider", p.cfg.Name, "host", host, "reason", why)
}
