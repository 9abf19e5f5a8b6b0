package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"rsc.io/qr"
)

// TestDemoAutoApprove runs exactly what CI and a newcomer run, from the
// repository root: go run ./cmd/mcpauth demo --auto-approve.
func TestDemoAutoApprove(t *testing.T) {
	t.Parallel()
	// A bound for a hung demo, not a measurement: the demo's own
	// --timeout (5 minutes) ends it first.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", "./cmd/mcpauth", "demo", "--auto-approve")
	cmd.Dir = filepath.Join("..", "..")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run ./cmd/mcpauth demo --auto-approve: %v\n%s", err, &stderr)
	}
	out := stderr.String()
	if stdout.Len() != 0 {
		t.Errorf("the demo wrote on stdout (which is for machine output): %q", stdout.String())
	}
	// The narrated steps and what each showed, in order.
	wantInOrder(t, out,
		"[1/8] Start a development identity provider",
		"approval     automatic (--auto-approve)",
		"[2/8] Start a small API",
		"[3/8] Get the example MCP server",
		"[4/8] Start the example server over stdio in lazy mode",
		"server       mcpauth-example 0.1.0 over stdio, MCP 2025-11-25",
		"→ tools/list: auth_logout, auth_status, dev_call_api, dev_whoami, hello, ping",
		"[5/8] Call the protected tool dev_whoami",
		`← elicitation/create, mode "url": the server asks this client to show you login #1:`,
		"open  http://127.0.0.1:",
		"← dev_whoami: subject: test-user",
		"[6/8] Step-up",
		`api: GET /profile → 403 insufficient_scope: the token lacks "profile"`,
		"scopes=[openid offline_access profile]",
		`← elicitation/create, mode "url": the server asks this client to show you login #2:`,
		`api: GET /profile → 200`,
		`← dev_call_api: 200 profile of test-user: name "Test User"`,
		"← dev_whoami: subject: test-user",
		"[7/8] Explicit mode",
		"→ tools/list: auth_login, auth_status, hello",
		"← auth_status: dev: not logged in.",
		"→ tools/call auth_login",
		`← elicitation/create, mode "url": the server asks this client to show you login #3:`,
		"← notifications/tools/list_changed",
		"← auth_login: dev: logged in as test-user",
		"→ tools/list: auth_login, auth_logout, auth_status, dev_call_api, dev_whoami, hello, ping",
		"[8/8] Log out",
		"← auth_logout: Logged out: dev (test-user): revoked at the issuer and forgotten.",
		"→ tools/list: auth_login, auth_status, hello",
		"← auth_status: dev: not logged in.",
		"Demo complete",
	)
	// notifications/elicitation/complete is sent before the tool result
	// but may arrive after it (mcp-go queues notifications separately), so
	// only its presence is checked.
	if !strings.Contains(out, "← notifications/elicitation/complete for login #") {
		t.Errorf("no notifications/elicitation/complete narrated")
	}
	codes := regexp.MustCompile(`(?m)^ +code  [A-Z]{4}-[A-Z]{4}$`).FindAllString(out, -1)
	if len(codes) != 3 {
		t.Errorf("the demo showed %d login codes, want 3 (login, step-up, auth_login)", len(codes))
	}
	for _, unwanted := range []string{"level=", "█", "\033["} {
		if strings.Contains(out, unwanted) {
			t.Errorf("the output (not a terminal) contains %q: logs or terminal drawing leaked", unwanted)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// wantInOrder checks that out contains each string, each after the one
// before.
func wantInOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			if strings.Contains(out, w) {
				t.Errorf("output has %q, but not after the lines before it", w)
			} else {
				t.Errorf("output lacks %q", w)
			}
			continue
		}
		rest = rest[i+len(w):]
	}
}

func TestDemoUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"demo", "--help"}, 0, "--auto-approve"},
		{[]string{"demo", "--timeout", "0s"}, 2, "want a positive duration"},
		{[]string{"demo", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"demo", "extra"}, 2, "unexpected arguments"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %d; output lacks %q?\n%s", code, tc.code, tc.want, out)
			}
		})
	}
}

// TestDemoFailures: a failed step ends the demo with exit code 1 and a
// message that says what it was doing.
func TestDemoFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no server binary", []string{"--server", filepath.Join(t.TempDir(), "missing")},
			[]string{"mcpauth demo: while starting the example server in lazy mode: starting the example server:", "no such file"}},
		{"timeout", []string{"--timeout", "1ns"},
			[]string{"mcpauth demo: gave up after 1ns (--timeout) while starting the example server in lazy mode"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runCLI(t, append([]string{"demo", "--auto-approve"}, tc.args...)...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestDemoDenied: the user denies the login on the devserver's page (its
// form, posted as a browser would); the tool does not run and the demo
// fails with the server's explanation.
func TestDemoDenied(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"demo", "--timeout", "4m"}, out) }()

	login := regexp.MustCompile(`open  (http://127\.0\.0\.1:\d+/device)\s*\n\s*code  ([A-Z]{4}-[A-Z]{4})`)
	var m []string
	for deadline := time.Now().Add(3 * time.Minute); m == nil; {
		select {
		case code := <-done:
			t.Fatalf("the demo exited (%d) before showing a login:\n%s", code, out)
		case <-time.After(100 * time.Millisecond):
		}
		if m = login.FindStringSubmatch(out.String()); m == nil && time.Now().After(deadline) {
			t.Fatalf("no login shown:\n%s", out)
		}
	}
	resp, err := http.PostForm(m[1], url.Values{"user_code": {m[2]}, "username": {"test-user"}, "password": {"test-password"}, "action": {"deny"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("deny: %s", resp.Status)
	}
	code := <-done
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, w := range []string{
		"devserver: device authorization deny",
		"← dev_whoami failed: The login to dev was denied, so the tool did not run.",
		"mcpauth demo: while calling dev_whoami: dev_whoami failed: The login to dev was denied",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if strings.Contains(out.String(), "Demo complete") {
		t.Errorf("a failed demo says it completed")
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// TestQRLines reads the drawn QR code back, module by module: the drawing
// must be the code, with its quiet zone.
func TestQRLines(t *testing.T) {
	const text = "http://127.0.0.1:45678/device"
	lines, err := qrLines(text)
	if err != nil {
		t.Fatal(err)
	}
	code, err := qr.Encode(text, qr.L)
	if err != nil {
		t.Fatal(err)
	}
	const quiet = 4
	if want := (code.Size + 2*quiet + 1) / 2; len(lines) != want {
		t.Fatalf("%d lines, want %d", len(lines), want)
	}
	for row, line := range lines {
		cells := []rune(line)
		if len(cells) != code.Size+2*quiet {
			t.Fatalf("line %d has %d cells, want %d", row, len(cells), code.Size+2*quiet)
		}
		for col, c := range cells {
			top := c == '█' || c == '▀'
			bottom := c == '█' || c == '▄'
			if !top && !bottom && c != ' ' {
				t.Fatalf("line %d cell %d: %q", row, col, c)
			}
			x, y := col-quiet, 2*row-quiet
			if top != code.Black(x, y) || bottom != code.Black(x, y+1) {
				t.Fatalf("module (%d,%d) or (%d,%d) drawn wrong", x, y, x, y+1)
			}
		}
	}
	if strings.TrimSpace(lines[0]) != "" || strings.TrimSpace(lines[len(lines)-1]) != "" {
		t.Errorf("no quiet zone above or below")
	}
}

// TestNarratorCountdown: on a terminal the countdown is a status line,
// redrawn with the code's lifetime from progress notifications and replaced
// by later output; elsewhere it is a plain line, written again only now and
// then.
func TestNarratorCountdown(t *testing.T) {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	const (
		clear   = "\r\033[K"
		before  = indent + "Waiting for your approval… demo stops in 1h0m0s"
		counted = indent + "Waiting for your approval… code expires in 4m50s; demo stops in 1h0m0s"
	)
	for _, tc := range []struct {
		tty  bool
		want string
	}{
		{true, clear + before + clear + counted + clear + indent + "between\n" + clear + counted + clear + indent + "after\n"},
		{false, before + "\n" + indent + "between\n" + indent + "after\n"},
	} {
		var b bytes.Buffer
		n := newNarrator(&b, tc.tty)
		n.now = func() time.Time { return start }
		n.deadline = start.Add(time.Hour)
		n.startWaiting(false)
		n.progress(10, 300)
		n.say("between")
		n.stopWaiting()
		n.say("after")
		if got := b.String(); got != tc.want {
			t.Errorf("tty=%v:\n got %q\nwant %q", tc.tty, got, tc.want)
		}
	}
}
