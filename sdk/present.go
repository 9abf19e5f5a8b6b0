package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// present shows a login the call started, in the richest way the client
// declared: a URL-mode elicitation, a form elicitation carrying the device
// code, or a tool result with the link.
//
// Elicitations go out as an input_required result (MCP 2026-07-28 multi
// round trip); for 2025-11-25 clients the adapter's SDK turns it into a
// real elicitation/create and calls the handler again with the answer, so
// one code path serves both.
func (a *Auth) present(c caller, f *flow, pr *prompt) *Result {
	e, ok := a.elicitation(c, f, pr)
	a.logger.Debug("mcpauth: showing the login", "provider", f.p.cfg.Name, "client", c.kind(), "modern", c.modern(), "grant", pr.grant, "elicitation", ok)
	if !ok {
		return a.linkResult(f.p, pr)
	}
	return &Result{Input: e, RequestState: f.id}
}

// elicitation builds the elicitation showing pr to c's user; ok is false
// when the client cannot show it (no elicitation, or a form and a browser
// login, whose long link a form cannot carry).
func (a *Auth) elicitation(c caller, f *flow, pr *prompt) (*Elicitation, bool) {
	p := f.p
	switch {
	case c.kind() == ElicitURL:
		params := &Elicitation{
			Mode:    ModeURL,
			URL:     pr.url,
			Message: a.urlMessage(p, pr),
		}
		if !c.modern() {
			// MCP 2025-11-25: a fresh elicitationId, completed by
			// notifications/elicitation/complete once the login succeeds.
			// 2026-07-28 has neither.
			id := randomID()
			params.ElicitationID = id
			f.mu.Lock()
			f.elicited = append(f.elicited, id)
			f.mu.Unlock()
			peer := c.peer
			f.onSuccess(func() {
				if peer == nil {
					return
				}
				if err := peer.NotifyElicitationComplete(context.Background(), id); err != nil {
					a.logger.Debug("mcpauth: elicitation complete notification not sent", "err", err)
				}
			})
		}
		return params, true
	case c.kind() == ElicitForm && pr.grant == provider.GrantDevice:
		return &Elicitation{Mode: ModeForm, Message: a.formMessage(p, pr)}, true
	}
	return nil, false
}

// urlMessage goes with a URL-mode elicitation. It carries the code, never
// the URL: the client shows the URL (and its host) from the url field.
func (a *Auth) urlMessage(p *providerState, pr *prompt) string {
	if pr.grant == provider.GrantDevice {
		return fmt.Sprintf("Log in to %s so that %s can act for you. When the page asks for a code, enter %s.",
			p.cfg.DisplayName, a.opts.ServerName, pr.userCode)
	}
	return fmt.Sprintf("Log in to %s in your browser so that %s can act for you.", p.cfg.DisplayName, a.opts.ServerName)
}

// formMessage goes with a form elicitation, which has no url field: the
// verification URI is written out for the user to type, with the code.
func (a *Auth) formMessage(p *providerState, pr *prompt) string {
	return fmt.Sprintf("To let %s use your %s account, go to %s in a browser on any device and enter the code %s. "+
		"Choose Accept once you have approved it there, or Decline to cancel.",
		a.opts.ServerName, p.cfg.DisplayName, pr.url, pr.userCode)
}

// linkResult is the fallback for clients without elicitation: the link in
// the tool result, the login going on in the background so that calling the
// tool again after approving it succeeds.
func (a *Auth) linkResult(p *providerState, pr *prompt) *Result {
	return errorResult(a.instructions(caller{}, p, pr) + "\nThen call this tool again.")
}

func errorResult(text string) *Result { return &Result{Text: text, IsError: true} }

func (a *Auth) instructions(c caller, p *providerState, pr *prompt) string {
	if c.kind() == ElicitURL && pr.grant == provider.GrantPKCE {
		// The client showed the authorization URL itself (URL
		// elicitation): it carries the state, the PKCE challenge and the
		// loopback port, and does not belong in text the model reads.
		return fmt.Sprintf("Login needed: finish logging in to %s in the browser, from the link your MCP client showed.", p.cfg.DisplayName)
	}
	// The link and the code stand on lines of their own, with nothing
	// glued to them: a user who copies the text, or a parser, gets them
	// whole (a trailing full stop once broke the state parameter).
	var b strings.Builder
	fmt.Fprintf(&b, "Login needed: to let %s use your %s account, open this link:\n\n%s\n", a.opts.ServerName, p.cfg.DisplayName, pr.url)
	if pr.userCode != "" {
		fmt.Fprintf(&b, "\nand enter the code:\n\n%s\n", pr.userCode)
	}
	if !pr.expires.IsZero() {
		fmt.Fprintf(&b, "\nThe login stays open until %s.", pr.expires.UTC().Format(time.Kitchen+" MST"))
	}
	return b.String()
}

// failure turns a login error into the tool result the user sees.
func (a *Auth) failure(c caller, p *providerState, pr *prompt, err error) *Result {
	name := p.cfg.DisplayName
	var msg string
	switch {
	case errors.Is(err, ErrDeclined):
		msg = fmt.Sprintf("The login to %s was declined, so the tool did not run.", name)
	case errors.Is(err, ErrStillWaiting):
		msg = fmt.Sprintf("Still waiting for the login to %s.", name)
		if pr != nil {
			msg += "\n" + a.instructions(c, p, pr)
		}
		msg += "\nCall this tool again when you are done."
	case errors.Is(err, provider.ErrExpiredToken):
		msg = fmt.Sprintf("The login code for %s expired before it was approved. Call the tool again to start a new login.", name)
	case errors.Is(err, provider.ErrAccessDenied):
		msg = fmt.Sprintf("The login to %s was denied, so the tool did not run.", name)
	case errors.Is(err, errLoggedOut):
		msg = fmt.Sprintf("The login to %s was stopped by a logout.", name)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("The login to %s was stopped: %v.", name, err)
	default:
		msg = fmt.Sprintf("The login to %s failed: %v", name, err)
	}
	return errorResult(msg)
}
