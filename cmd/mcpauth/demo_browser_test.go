//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoBrowser runs `mcpauth demo` the way a person does: in a terminal
// (tmux), approving each login in a browser (headless Chromium) at the link
// the demo shows, with the code it shows. It keeps a screenshot of every
// approval page and the terminal's text in $MCPAUTH_ARTIFACTS/TestDemoBrowser
// (or a temporary directory) and logs their paths.
func TestDemoBrowser(t *testing.T) {
	if os.Getenv("MCPAUTH_SKIP_BROWSER_TESTS") == "1" {
		t.Skip("MCPAUTH_SKIP_BROWSER_TESTS=1")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%v: install the Debian package %s (apt-get install %s), or set MCPAUTH_SKIP_BROWSER_TESTS=1", err, chromiumPackage, chromiumPackage)
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("%v: install the Debian package tmux (apt-get install tmux), or set MCPAUTH_SKIP_BROWSER_TESTS=1", err)
	}
	t.Parallel()
	artifacts := demoArtifacts(t)
	bin := mcpauthBinary(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	// The shell records the exit status in a file: tmux's own
	// pane_dead_status is sometimes never filled in (it may see the pty
	// close and miss the process's exit).
	statusFile := filepath.Join(t.TempDir(), "status")
	term := startTmux(t, root, shellQuote([]string{bin, "demo", "--timeout", "4m"})+"; echo $? > "+shellQuote([]string{statusFile}))
	b := startBrowser(t)

	// The scopes each approval page must show: the first login, the
	// step-up (the union with "profile"), auth_login in explicit mode.
	wantProfile := []bool{false, true, false}
	login := regexp.MustCompile(`open  (http://127\.0\.0\.1:\d+/device)\s*\n\s*code  ([A-Z]{4}-[A-Z]{4})`)
	var codes []string
	deadline := time.Now().Add(5 * time.Minute)
	for {
		screen := term.capture()
		for _, m := range login.FindAllStringSubmatch(screen, -1) {
			url, code := m[1], m[2]
			if slices.Contains(codes, code) {
				continue
			}
			codes = append(codes, code)
			i := len(codes)
			if i > len(wantProfile) {
				t.Fatalf("the demo showed a login #%d (%s), want %d:\n%s", i, code, len(wantProfile), screen)
			}
			// The countdown runs while the login waits: the code's
			// lifetime comes with the server's progress notifications.
			waiting := term.waitFor(t, "code expires in")
			if !strings.Contains(waiting, "Waiting for your approval…") || !strings.Contains(waiting, "demo stops in") {
				t.Errorf("login %d: no countdown on the terminal:\n%s", i, waiting)
			}
			if i == 1 {
				writeArtifact(t, artifacts, "terminal-waiting.txt", waiting)
			}
			approveInBrowser(t, b, url, code, wantProfile[i-1], filepath.Join(artifacts, fmt.Sprintf("approval-%d.png", i)))
		}
		if status, exited := exitStatus(t, statusFile); exited {
			screen = term.capture()
			writeArtifact(t, artifacts, "terminal.txt", screen)
			if status != 0 {
				t.Fatalf("mcpauth demo exited with status %d:\n%s", status, screen)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mcpauth demo still running after 5 minutes:\n%s", screen)
		}
		time.Sleep(200 * time.Millisecond)
	}

	screen := term.capture()
	if len(codes) != len(wantProfile) {
		t.Errorf("approved %d logins, want %d", len(codes), len(wantProfile))
	}
	for _, want := range []string{
		"← dev_whoami: subject: test-user",
		`← dev_call_api: 200 profile of test-user: name "Test User"`,
		"devserver: device authorization approve",
		"← auth_logout: Logged out: dev (test-user): revoked at the issuer and forgotten.",
		"← auth_status: dev: not logged in.",
		"Demo complete",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal lacks %q", want)
		}
	}
	// A QR code: rows of half blocks between quiet zones.
	if !regexp.MustCompile(`[█▀▄]{3} *[█▀▄ ]{20,}`).MatchString(screen) {
		t.Errorf("no QR code on the terminal")
	}
	if t.Failed() {
		t.Logf("terminal:\n%s", screen)
	}
}

// approveInBrowser acts as the user at the devserver: opens the link,
// enters the code, checks what the page asks for, screenshots it and
// approves.
func approveInBrowser(t *testing.T, b *cdpBrowser, url, code string, wantProfile bool, shot string) {
	t.Helper()
	b.navigate(url)
	b.fill(`input[name="user_code"]`, code)
	b.click(`button[type="submit"]`)
	page := b.text()
	if !strings.Contains(page, code) || !strings.Contains(page, "Approve") || !strings.Contains(page, "mcpauth-dev") {
		t.Fatalf("approval page for %s:\n%s", code, page)
	}
	if got := strings.Contains(page, "profile"); got != wantProfile {
		t.Errorf("approval page for %s mentions the profile scope: %v, want %v:\n%s", code, got, wantProfile, page)
	}
	b.screenshot(shot)
	t.Logf("approval page screenshot: %s", shot)
	b.click(`button[value="approve"]`)
	if page := b.text(); !strings.Contains(page, "Device authorized") {
		t.Fatalf("after Approve for %s:\n%s", code, page)
	}
}

// demoArtifacts is where the test keeps what a person would look at.
func demoArtifacts(t *testing.T) string {
	t.Helper()
	base := os.Getenv("MCPAUTH_ARTIFACTS")
	if base == "" {
		return t.TempDir()
	}
	dir := filepath.Join(base, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeArtifact(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("terminal capture: %s", path)
}

// tmuxTerm is a terminal: a tmux server of its own (-L) with one window
// running a command.
type tmuxTerm struct {
	sock, conf string
}

func startTmux(t *testing.T, dir, command string) *tmuxTerm {
	t.Helper()
	conf, err := filepath.Abs(filepath.Join("testdata", "demo", "tmux.conf"))
	if err != nil {
		t.Fatal(err)
	}
	tm := &tmuxTerm{sock: fmt.Sprintf("mcpauth-demo-test-%d", os.Getpid()), conf: conf}
	t.Cleanup(func() { tm.run("kill-server") })
	if out, err := tm.run("new-session", "-d", "-s", "demo", "-x", "100", "-y", "50", "-c", dir, command); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	return tm
}

func (tm *tmuxTerm) run(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-L", tm.sock, "-f", tm.conf}, args...)...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "TMUX=") })
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// capture is the text of the whole pane, history included, wrapped lines
// joined.
func (tm *tmuxTerm) capture() string {
	out, _ := tm.run("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "demo")
	return out
}

// exitStatus reads the exit status the shell wrote, if it has.
func exitStatus(t *testing.T, path string) (int, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(string(b), "\n") {
		return 0, false // not yet (or not completely) written
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("exit status file: %q", b)
	}
	return n, true
}

// waitFor waits until the pane shows text and returns the pane. The bound
// only ends a test that would otherwise hang.
func (tm *tmuxTerm) waitFor(t *testing.T, text string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		screen := tm.capture()
		if strings.Contains(screen, text) {
			return screen
		}
		if time.Now().After(deadline) {
			t.Fatalf("the terminal does not show %q:\n%s", text, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
