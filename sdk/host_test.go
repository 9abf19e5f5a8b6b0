package sdk_test

// Host-facing behaviour real clients need (issue 10, items 3–7), end to
// end: the test server (on the adapter MCPAUTH_TEST_SDK names) against the
// embedded OP, with the mcp-go and go-sdk Go clients.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// noElicitationClients are the clients a no-elicitation test runs with.
var noElicitationClients = []clientConfig{
	{lib: "mcp-go", version: v20251125, elicit: "none"},
	{lib: "mcp-go", version: v20260728, elicit: "none"},
	{lib: "go-sdk", version: v20251125, elicit: "none"},
	{lib: "go-sdk", version: v20260728, elicit: "none"},
}

// TestHostQuietWait: a call without a progressToken, joining a device login
// nobody approves, answers "call this tool again" after the quiet wait
// (-quiet-wait 3s), well before the 60 s WaitTimeout and a TS client's 60 s
// request timeout; the login keeps running meanwhile: approving the code
// shown first makes the next call succeed, with one device authorization.
func TestHostQuietWait(t *testing.T) {
	const quiet = 3 * time.Second
	for _, cfg := range noElicitationClients {
		t.Run(cfg.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			c := startClient(t, h.serverCmd([]string{"-quiet-wait", quiet.String(), "-wait", "60s"}), cfg)
			ctx := testContext(t)

			var res toolResult
			var err error
			took := timed(func() { res, err = c.Call(ctx, "corp_whoami", nil, nil) })
			if err != nil {
				t.Fatal(err)
			}
			code := codeLine(res.Text)
			if !res.IsError || code == "" || !slices.Contains(linkLines(res.Text), h.op.Issuer+"/device") {
				t.Fatalf("first call = %+v, want the login: the verification URI and the code, each on a line", res)
			}
			t.Logf("first call (shows the login) took %v", took)

			took = timed(func() { res, err = c.Call(ctx, "corp_whoami", nil, nil) })
			if err != nil {
				t.Fatalf("retry while nobody approved: %v (after %v)", err, took)
			}
			t.Logf("retry (nobody approved) took %v: %q", took, res.Text)
			if took < quiet-500*time.Millisecond || took >= 30*time.Second {
				t.Errorf("the unapproved retry answered after %v, want about the %v quiet wait (≥ %v, < 30s; WaitTimeout is 60s)", took, quiet, quiet-500*time.Millisecond)
			}
			if !res.IsError || !strings.Contains(strings.ToLower(res.Text), "call this tool again") || strings.Contains(res.Text, "subject:") {
				t.Errorf("retry = %+v, want an error result saying to call the tool again", res)
			}
			if !strings.HasPrefix(res.Text, "Still waiting for the login to corp.") {
				t.Errorf("retry = %q, want it to say first that it is still waiting", res.Text)
			}
			if got := codeLine(res.Text); got != code {
				t.Errorf("retry shows code %q, want the running login's %q (a new login was started?)", got, code)
			}
			if n := h.op.Requests(h.op.DevicePath()); n != 1 {
				t.Errorf("%d device authorizations after the retry, want 1", n)
			}

			if err := h.op.ApproveDevice(approveCtx(t), code); err != nil {
				t.Fatalf("approve %s after the retry: %v (the login must still be running)", code, err)
			}
			res, err = c.Call(ctx, "corp_whoami", nil, nil)
			if err != nil || res.IsError || res.Text != "subject: "+h.op.Username {
				t.Fatalf("call after approving = %+v, %v", res, err)
			}
			if n := h.op.Requests(h.op.DevicePath()); n != 1 {
				t.Errorf("%d device authorizations, want 1", n)
			}
		})
	}
}

// TestHostQuietWaitAfterAccept: a URL-elicitation client without a
// progressToken accepts the prompt but nobody approves the login: the call
// answers "call this tool again" after the quiet wait, not the 60 s
// WaitTimeout; the login goes on, and after approving it the next call
// succeeds without a second prompt or device authorization.
func TestHostQuietWaitAfterAccept(t *testing.T) {
	const quiet = 3 * time.Second
	for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "go-sdk", version: v20251125}, {lib: "mcp-go", version: v20260728}, {lib: "go-sdk", version: v20260728}} {
		t.Run(cfg.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			var rec recorder
			cfg.elicit = "url"
			cfg.onElicit = func(e elicitation) string { rec.add(e); return "accept" } // and then never approves
			c := startClient(t, h.serverCmd([]string{"-quiet-wait", quiet.String(), "-wait", "60s"}), cfg)
			ctx := testContext(t)
			var res toolResult
			var err error
			took := timed(func() { res, err = c.Call(ctx, "corp_whoami", nil, nil) })
			if err != nil {
				t.Fatalf("call: %v (after %v)", err, took)
			}
			t.Logf("accepted, unapproved call took %v: %q", took, res.Text)
			if took < quiet-500*time.Millisecond || took >= 30*time.Second {
				t.Errorf("the accepted but unapproved call answered after %v, want about the %v quiet wait (< 30s; WaitTimeout is 60s)", took, quiet)
			}
			if !res.IsError || !strings.Contains(strings.ToLower(res.Text), "call this tool again") {
				t.Errorf("call = %+v, want an error result saying to call the tool again", res)
			}
			got := rec.all()
			if len(got) != 1 {
				t.Fatalf("%d elicitations, want 1", len(got))
			}
			if err := h.op.ApproveDevice(approveCtx(t), userCodeRE.FindString(got[0].Message)); err != nil {
				t.Fatalf("approve after the quiet wait: %v (the login must still be running)", err)
			}
			res, err = c.Call(ctx, "corp_whoami", nil, nil)
			if err != nil || res.IsError || res.Text != "subject: "+h.op.Username {
				t.Fatalf("call after approving = %+v, %v", res, err)
			}
			if n := len(rec.all()); n != 1 {
				t.Errorf("%d elicitations, want 1 (the retry joins the running login)", n)
			}
			if n := h.op.Requests(h.op.DevicePath()); n != 1 {
				t.Errorf("%d device authorizations, want 1", n)
			}
		})
	}
}

// TestHostProgressFromPrompt: a 2025-11-25 client with a progressToken
// whose user takes 12 s to answer the URL elicitation: progress on that
// token arrives while the prompt is unanswered (the server keeps the
// request alive while its SDK waits for the answer), the first within 10 s
// of the prompt being shown, never more than 10 s apart, until the result;
// values strictly increase. Device and browser (PKCE) logins.
func TestHostProgressFromPrompt(t *testing.T) {
	const block, maxGap = 12 * time.Second, 10 * time.Second
	for _, grant := range []string{"device", "pkce"} {
		for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "go-sdk", version: v20251125}} {
			t.Run(grant+"/"+cfg.String(), func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, zitadelop.Options{})
				var mu sync.Mutex
				var shown, answered time.Time
				var n atomic.Int32
				cfg.elicit = "url"
				cfg.onElicit = func(e elicitation) string {
					if n.Add(1) > 1 {
						t.Errorf("a second elicitation: %+v", e)
						return "cancel"
					}
					mu.Lock()
					shown = time.Now()
					mu.Unlock()
					time.Sleep(block) // the user reads the prompt
					action := approve(t, h.op, e)
					mu.Lock()
					answered = time.Now()
					mu.Unlock()
					return action
				}
				c := startClient(t, h.serverCmd([]string{"-grant", grant}), cfg)
				const token = "host-progress-1"
				res, err := c.Call(testContext(t), "corp_whoami", nil, token)
				done := time.Now()
				if err != nil || res.IsError || res.Text != "subject: "+h.op.Username {
					t.Fatalf("corp_whoami = %+v, %v", res, err)
				}
				mu.Lock()
				defer mu.Unlock()
				if shown.IsZero() {
					t.Fatal("no elicitation was shown")
				}
				// At least two while the user reads (progressEvery is 5 s;
				// the bound is 10 s).
				checkProgressTimes(t, progressOf(t, c), token, shown, answered, done, maxGap, 2)
			})
		}
	}
}

// TestHostLinkTextParses: for a client without elicitation, the tool result
// puts the link on a line of its own, which a strict url.Parse of the whole
// line (nothing trimmed) accepts; following exactly that line completes the
// login (PKCE: op.Browse; device: the code on its own line is the one
// approved), and the retry succeeds.
func TestHostLinkTextParses(t *testing.T) {
	for _, grant := range []string{"pkce", "device"} {
		for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125, elicit: "none"}, {lib: "go-sdk", version: v20260728, elicit: "none"}} {
			t.Run(grant+"/"+cfg.String(), func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, zitadelop.Options{})
				c := startClient(t, h.serverCmd([]string{"-grant", grant}), cfg)
				ctx := testContext(t)
				res, err := c.Call(ctx, "corp_whoami", nil, nil)
				if err != nil || !res.IsError {
					t.Fatalf("first call = %+v, %v; want the login text", res, err)
				}
				link, u := strictLink(t, res.Text, hostOf(t, h.op.Issuer))
				switch grant {
				case "pkce":
					q := u.Query()
					if !strings.HasPrefix(link, h.op.Issuer+"/authorize?") || q.Get("state") == "" || q.Get("code_challenge") == "" || q.Get("redirect_uri") == "" {
						t.Fatalf("link %q is not the OP's authorization URL with state, code_challenge and redirect_uri", link)
					}
					if err := h.op.Browse(approveCtx(t), link); err != nil {
						t.Fatalf("browser login at the parsed link: %v", err)
					}
				case "device":
					if link != h.op.Issuer+"/device" {
						t.Errorf("link %q, want the verification URI %s/device", link, h.op.Issuer)
					}
					code := codeLine(res.Text)
					if code == "" {
						t.Fatalf("no line holding the code and nothing else:\n%s", res.Text)
					}
					if err := h.op.ApproveDevice(approveCtx(t), code); err != nil {
						t.Fatalf("approve the code line %q: %v", code, err)
					}
				}
				res, err = c.Call(ctx, "corp_whoami", nil, nil)
				if err != nil || res.IsError || res.Text != "subject: "+h.op.Username {
					t.Fatalf("retry = %+v, %v", res, err)
				}
			})
		}
	}
}

// TestHostAuthToolsLazy: lazy mode lists auth_status and auth_logout (not
// auth_login), -hide-auth-tools none of them; their annotations on the
// wire, and auth_login's in explicit mode, say what they do (values read
// with the spec's defaults for absent hints); auth_status tells not logged
// in / logged in as the user; auth_logout forgets the login, and the next
// protected call shows a login again.
func TestHostAuthToolsLazy(t *testing.T) {
	// name → readOnlyHint, destructiveHint
	want := map[string][2]bool{"auth_status": {true, false}, "auth_logout": {false, true}, "auth_login": {false, false}}
	checkAnn := func(t *testing.T, tools map[string]map[string]any, name string) {
		t.Helper()
		ann, ok := tools[name]
		if !ok {
			t.Errorf("%s not listed", name)
			return
		}
		w := want[name]
		if ro, de := hint(ann, "readOnlyHint"), hint(ann, "destructiveHint"); ro != w[0] || de != w[1] {
			t.Errorf("%s annotations %v: readOnlyHint %v destructiveHint %v, want %v %v", name, ann, ro, de, w[0], w[1])
		}
	}
	t.Run("listing", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, zitadelop.Options{})
		lazy := wireTools(t, h.serverCmd(nil))
		if _, ok := lazy["auth_login"]; ok {
			t.Errorf("lazy mode lists auth_login")
		}
		checkAnn(t, lazy, "auth_status")
		checkAnn(t, lazy, "auth_logout")
		if !hint(lazy["auth_logout"], "idempotentHint") {
			t.Errorf("auth_logout annotations %v: want idempotentHint true", lazy["auth_logout"])
		}
		hidden := wireTools(t, h.serverCmd([]string{"-hide-auth-tools"}))
		for _, name := range []string{"auth_login", "auth_status", "auth_logout"} {
			if _, ok := hidden[name]; ok {
				t.Errorf("-hide-auth-tools: %s listed", name)
			}
		}
		if _, ok := hidden["ping"]; !ok {
			t.Errorf("-hide-auth-tools: ping not listed: %v", hidden)
		}
		explicit := wireTools(t, h.serverCmd([]string{"-mode", "explicit"}))
		checkAnn(t, explicit, "auth_login")
		checkAnn(t, explicit, "auth_status")
	})
	for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "mcp-go", version: v20260728}, {lib: "go-sdk", version: v20251125}, {lib: "go-sdk", version: v20260728}} {
		t.Run("status-logout/"+cfg.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			var rec recorder
			cfg.elicit = "url"
			cfg.onElicit = func(e elicitation) string { rec.add(e); return approve(t, h.op, e) }
			c := startClient(t, h.serverCmd(nil), cfg)
			ctx := testContext(t)
			tools, err := c.Tools(ctx)
			if err != nil || !slices.Contains(tools, "auth_status") || !slices.Contains(tools, "auth_logout") || slices.Contains(tools, "auth_login") {
				t.Fatalf("lazy tools = %v, %v; want auth_status and auth_logout, not auth_login", tools, err)
			}
			status := func() string {
				t.Helper()
				res, err := c.Call(ctx, "auth_status", nil, nil)
				if err != nil || res.IsError {
					t.Fatalf("auth_status = %+v, %v", res, err)
				}
				return res.Text
			}
			if s := status(); !strings.Contains(s, "corp: not logged in") {
				t.Errorf("auth_status before login = %q, want not logged in", s)
			}
			if res, err := c.Call(ctx, "ping", nil, nil); err != nil || res.Text != "pong" {
				t.Fatalf("ping (lazy login) = %+v, %v", res, err)
			}
			if s := status(); !strings.Contains(s, "corp: logged in as "+h.op.Username) {
				t.Errorf("auth_status after login = %q, want logged in as %s", s, h.op.Username)
			}
			res, err := c.Call(ctx, "auth_logout", nil, nil)
			if err != nil || res.IsError || !strings.Contains(res.Text, "Logged out") {
				t.Fatalf("auth_logout = %+v, %v", res, err)
			}
			if s := status(); !strings.Contains(s, "corp: not logged in") {
				t.Errorf("auth_status after logout = %q, want not logged in", s)
			}
			if n := len(rec.all()); n != 1 {
				t.Fatalf("%d elicitations before the call after logout, want 1", n)
			}
			if res, err := c.Call(ctx, "ping", nil, nil); err != nil || res.Text != "pong" {
				t.Fatalf("ping after logout = %+v, %v", res, err)
			}
			if n := len(rec.all()); n != 2 {
				t.Errorf("%d elicitations, want 2: the call after logout must show a login again", n)
			}
			if n := h.op.Requests(h.op.DevicePath()); n != 2 {
				t.Errorf("%d device authorizations, want 2", n)
			}
		})
	}
}

// TestHostOpensBrowser: with a desktop (-browser-log F: a "browser" that
// writes down what it opens) and a PKCE login, a client without elicitation
// gets the browser opened on exactly the authorization URL its text shows
// (logged, by host only); following it completes the login. A client with
// URL elicitation shows the link itself: nothing is opened. Without a
// desktop (this container, no DISPLAY) nothing is opened and the log says so.
func TestHostOpensBrowser(t *testing.T) {
	for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "go-sdk", version: v20260728}} {
		t.Run("no-elicitation/"+cfg.String(), func(t *testing.T) {
			t.Parallel()
			cfg := cfg // the subtests of one client run in parallel
			h := newHarness(t, zitadelop.Options{})
			logPath := filepath.Join(t.TempDir(), "browser.log")
			sp := h.serverCmd([]string{"-grant", "pkce", "-browser-log", logPath})
			cfg.elicit = "none"
			c := startClient(t, sp, cfg)
			ctx := testContext(t)
			res, err := c.Call(ctx, "corp_whoami", nil, nil)
			if err != nil || !res.IsError {
				t.Fatalf("first call = %+v, %v", res, err)
			}
			link, u := strictLink(t, res.Text, hostOf(t, h.op.Issuer))
			waitFor(t, func() bool { return fileText(t, logPath) != "" }, func() string { return "the browser to be opened (" + logPath + ")" })
			if got := fileText(t, logPath); got != link+"\n" {
				t.Fatalf("browser opened %q, want exactly the link shown %q", got, link)
			}
			if err := h.op.Browse(approveCtx(t), strings.TrimSuffix(fileText(t, logPath), "\n")); err != nil {
				t.Fatalf("browser login: %v", err)
			}
			res, err = c.Call(ctx, "corp_whoami", nil, nil)
			if err != nil || res.IsError || res.Text != "subject: "+h.op.Username {
				t.Fatalf("retry = %+v, %v", res, err)
			}
			logs := sp.stderr.String()
			if !strings.Contains(logs, "opened the login page") {
				t.Errorf("server log lacks \"opened the login page\":\n%s", logs)
			}
			if state := u.Query().Get("state"); state == "" || strings.Contains(logs, state) {
				t.Errorf("server log holds the login's state %q (or the link has none)", state)
			}
			if got := fileText(t, logPath); got != link+"\n" {
				t.Errorf("browser log after the login %q, want only the one link", got)
			}
		})
		t.Run("url-elicitation/"+cfg.String(), func(t *testing.T) {
			t.Parallel()
			cfg := cfg
			h := newHarness(t, zitadelop.Options{})
			logPath := filepath.Join(t.TempDir(), "browser.log")
			sp := h.serverCmd([]string{"-grant", "pkce", "-browser-log", logPath})
			var rec recorder
			cfg.elicit = "url"
			cfg.onElicit = func(e elicitation) string { rec.add(e); return approve(t, h.op, e) }
			c := startClient(t, sp, cfg)
			res, err := c.Call(testContext(t), "corp_whoami", nil, nil)
			if err != nil || res.IsError || res.Text != "subject: "+h.op.Username {
				t.Fatalf("corp_whoami = %+v, %v", res, err)
			}
			if got := rec.all(); len(got) != 1 || !strings.HasPrefix(got[0].URL, h.op.Issuer+"/authorize?") {
				t.Fatalf("elicitations %+v, want one with the authorization URL", got)
			}
			if got := fileText(t, logPath); got != "" {
				t.Errorf("the browser was opened on %q although the client showed the link", got)
			}
			if logs := sp.stderr.String(); strings.Contains(logs, "opened the login page") {
				t.Errorf("server log says it opened the browser:\n%s", logs)
			}
		})
		t.Run("no-desktop/"+cfg.String(), func(t *testing.T) {
			t.Parallel()
			cfg := cfg
			h := newHarness(t, zitadelop.Options{})
			sp := h.serverCmd([]string{"-grant", "pkce"})
			cfg.elicit = "none"
			c := startClient(t, sp, cfg)
			ctx := testContext(t)
			res, err := c.Call(ctx, "corp_whoami", nil, nil)
			if err != nil || !res.IsError {
				t.Fatalf("first call = %+v, %v", res, err)
			}
			link, _ := strictLink(t, res.Text, hostOf(t, h.op.Issuer))
			waitFor(t, func() bool { return strings.Contains(sp.stderr.String(), "not opening a browser") },
				func() string { return "\"not opening a browser\" in the server log:\n" + sp.stderr.String() })
			if logs := sp.stderr.String(); strings.Contains(logs, "opened the login page") {
				t.Errorf("server log says it opened a browser without a desktop:\n%s", logs)
			}
			if err := h.op.Browse(approveCtx(t), link); err != nil {
				t.Fatalf("browser login: %v", err)
			}
			if res, err := c.Call(ctx, "corp_whoami", nil, nil); err != nil || res.IsError || res.Text != "subject: "+h.op.Username {
				t.Fatalf("retry = %+v, %v", res, err)
			}
		})
	}
}

// TestHostScopeFilteredTools: with -filter-tools, corp_needs_email (Need
// email) is listed while there is no token, hidden once a login with the
// base scopes exists (list_changed), listed again after auth_login asks for
// email (list_changed), and still listed after auth_logout (no token;
// list_changed). auth_login is listed in this lazy mode.
func TestHostScopeFilteredTools(t *testing.T) {
	for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "mcp-go", version: v20260728}, {lib: "go-sdk", version: v20251125}} {
		t.Run(cfg.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			var rec recorder
			cfg.elicit = "url"
			cfg.onElicit = func(e elicitation) string { rec.add(e); return approve(t, h.op, e) }
			c := startClient(t, h.serverCmd([]string{"-filter-tools", "-tool-scopes", "email"}), cfg)
			ctx := testContext(t)
			tools := func() []string {
				t.Helper()
				got, err := c.Tools(ctx)
				if err != nil {
					t.Fatalf("tools/list: %v", err)
				}
				return got
			}
			got := tools()
			for _, name := range []string{"corp_needs_email", "auth_login", "auth_status", "auth_logout", "ping"} {
				if !slices.Contains(got, name) {
					t.Fatalf("tools before login %v lack %s", got, name)
				}
			}

			baseLogin := func(step string) {
				t.Helper()
				changed := countEvents(c, "list_changed")
				if res, err := c.Call(ctx, "ping", nil, nil); err != nil || res.Text != "pong" {
					t.Fatalf("%s: ping (login with the base scopes) = %+v, %v", step, res, err)
				}
				waitListChanged(t, c, changed)
				if got := tools(); slices.Contains(got, "corp_needs_email") || !slices.Contains(got, "auth_login") || !slices.Contains(got, "ping") {
					t.Fatalf("%s: tools after a login without email = %v; want corp_needs_email hidden, auth_login and ping listed", step, got)
				}
			}
			logout := func(step string, wantChange bool) {
				t.Helper()
				changed := countEvents(c, "list_changed")
				if res, err := c.Call(ctx, "auth_logout", nil, nil); err != nil || res.IsError {
					t.Fatalf("%s: auth_logout = %+v, %v", step, res, err)
				}
				if wantChange {
					waitListChanged(t, c, changed)
				}
				if got := tools(); !slices.Contains(got, "corp_needs_email") || !slices.Contains(got, "ping") {
					t.Fatalf("%s: tools after logout = %v; want corp_needs_email and ping (no token: nothing filtered)", step, got)
				}
			}

			baseLogin("first login")
			logout("logout with base scopes", true)
			baseLogin("second login")

			changed := countEvents(c, "list_changed")
			res, err := c.Call(ctx, "auth_login", map[string]any{"scopes": []string{"email"}}, nil)
			if err != nil || res.IsError {
				t.Fatalf("auth_login scopes [email] = %+v, %v", res, err)
			}
			if n := len(rec.all()); n != 3 {
				t.Errorf("%d elicitations, want 3 (two logins, then the email step-up)", n)
			}
			waitListChanged(t, c, changed)
			if got := tools(); !slices.Contains(got, "corp_needs_email") {
				t.Fatalf("tools after auth_login with email = %v; want corp_needs_email", got)
			}
			if res, err := c.Call(ctx, "corp_needs_email", nil, nil); err != nil || res.IsError || res.Text != "granted email" {
				t.Fatalf("corp_needs_email = %+v, %v", res, err)
			}
			// corp_needs_email stays listed through this logout (no
			// token: nothing filtered), so no list_changed is required.
			logout("logout with email", false)
		})
	}
}

// tsQuietClient is a TypeScript client without elicitation, with the SDK's
// default request timeout (60 s): it calls corp_whoami twice, approves the
// code the first result showed (POST to MCPAUTH_APPROVE_URL), and calls
// again, printing each call's text, error and duration as JSON.
const tsQuietClient = `
const lib = process.env.MCPAUTH_TS_LIB, version = process.env.MCPAUTH_TS_VERSION;
const server = JSON.parse(process.env.MCPAUTH_SERVER);
let Client, StdioClientTransport;
if (lib === 'sdk1') {
  ({ Client } = await import('@modelcontextprotocol/sdk/client/index.js'));
  ({ StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js'));
} else {
  ({ Client } = await import('@modelcontextprotocol/client'));
  ({ StdioClientTransport } = await import('@modelcontextprotocol/client/stdio'));
}
const opts = { capabilities: {} };
if (lib === 'client2') opts.versionNegotiation = { mode: version === 'legacy' ? 'legacy' : { pin: version } };
const client = new Client({ name: 'mcpauth-test-ts-quiet', version: '1.0.0' }, opts);
await client.connect(new StdioClientTransport({ command: server.command, args: server.args, env: server.env, stderr: 'inherit' }));
const text = (res) => (res.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');
const calls = [];
async function call() {
  const t0 = Date.now();
  try {
    const res = await client.callTool({ name: 'corp_whoami', arguments: {} });
    calls.push({ text: text(res), isError: !!res.isError, ms: Date.now() - t0 });
  } catch (e) {
    calls.push({ error: String(e?.message ?? e), ms: Date.now() - t0 });
  }
}
await call();
await call();
const code = /\b[A-Z]{4}-[A-Z]{4}\b/.exec(calls[0].text ?? '')?.[0];
if (code) {
  const r = await fetch(process.env.MCPAUTH_APPROVE_URL, { method: 'POST', body: code });
  if (!r.ok) calls.push({ error: 'approve: ' + r.status + ' ' + (await r.text()) });
}
await call();
console.log(JSON.stringify({ calls }));
await client.close();
process.exit(0);
`

// TestHostQuietWaitTypeScript: the case the quiet wait exists for. A
// TypeScript client without elicitation and with its default 60 s request
// timeout retries against a login nobody approved, on a server with the
// default QuietWait (40 s) and a 5 min WaitTimeout: it gets the "call this
// tool again" result, not "Request timed out"; the login went on, so after
// approving the first code the next call succeeds.
func TestHostQuietWaitTypeScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; the TypeScript client tests need Node.js ≥ 20")
	}
	for _, pkg := range []string{"@modelcontextprotocol/sdk", "@modelcontextprotocol/client"} {
		if _, err := os.Stat(filepath.Join("..", "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("%s is not installed: run npm ci at the repository root (scripts/test does)", pkg)
		}
	}
	for _, tc := range []struct{ lib, version string }{{"sdk1", "legacy"}, {"client2", "legacy"}, {"client2", v20260728}} {
		t.Run(tc.lib+"/"+tc.version, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			approver := newApprover(t, h.op)
			sp := h.serverCmd([]string{"-wait", "5m"}) // QuietWait: the default
			env := map[string]string{}
			for _, kv := range sp.cmd.Env {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			spec, _ := json.Marshal(map[string]any{"command": sp.cmd.Path, "args": sp.cmd.Args[1:], "env": env})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "--input-type=module", "-e", tsQuietClient)
			cmd.Dir = ".." // node_modules at the repository root
			cmd.Env = append(os.Environ(), "MCPAUTH_TS_LIB="+tc.lib, "MCPAUTH_TS_VERSION="+tc.version,
				"MCPAUTH_SERVER="+string(spec), "MCPAUTH_APPROVE_URL="+approver.URL)
			var stdout bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, sp.stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("node client: %v\nstdout: %s", err, stdout.String())
			}
			var got struct {
				Calls []struct {
					Text, Error string
					IsError     bool
					Ms          int64
				}
			}
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("node client output %q: %v", stdout.String(), err)
			}
			t.Logf("%+v", got.Calls)
			if len(got.Calls) != 3 {
				t.Fatalf("%d calls, want 3: %+v", len(got.Calls), got.Calls)
			}
			first, retry, last := got.Calls[0], got.Calls[1], got.Calls[2]
			code := codeLine(first.Text)
			if first.Error != "" || !first.IsError || code == "" {
				t.Fatalf("first call %+v, want the login text with the code", first)
			}
			took := time.Duration(retry.Ms) * time.Millisecond
			if retry.Error != "" || !retry.IsError || !strings.Contains(strings.ToLower(retry.Text), "call this tool again") || codeLine(retry.Text) != code {
				t.Errorf("unapproved retry after %v: %+v; want the still-waiting result (the same code, call again), not a client timeout", took, retry)
			}
			if took < 30*time.Second || took >= 58*time.Second {
				t.Errorf("unapproved retry answered after %v, want about the 40 s default QuietWait (≥ 30 s, < 58 s: before the client's 60 s timeout)", took)
			}
			if last.Error != "" || last.IsError || last.Text != "subject: "+h.op.Username {
				t.Errorf("call after approving = %+v", last)
			}
			if n := h.op.Requests(h.op.DevicePath()); n != 1 {
				t.Errorf("%d device authorizations, want 1", n)
			}
		})
	}
}
