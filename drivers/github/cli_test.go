package github_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCLILoginProvider: `mcpauth login --provider github` resolves the
// provider the way a server does — from the config file, to the GitHub
// driver, run as a plugin of the mcpauth binary — and completes a device
// login against the GitHub fake. Before, login always used the generic
// driver and could not log in to GitHub at all.
func TestCLILoginProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mcpauth binary")
	}
	f := newFakeGitHub(t, func(f *fakeGitHub) { f.interval = 1 })
	dir := t.TempDir()
	bin := filepath.Join(dir, "mcpauth")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/mcpauth")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building mcpauth: %v", err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`providers:
  - name: github
    driver: github        # the fake is on 127.0.0.1, which the driver does not claim
    issuer: `+f.URL+`
    client_id: `+f.clientID+`
    scopes: [repo]
    grant: device
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "login", "--config", cfg, "--provider", "github")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "MCPAUTH_CONFIG=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`^\s+([A-Z0-9_-]{6,})\s*$`) // the user code, on a line of its own (the fake's are base64url)
	var out strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if m := code.FindStringSubmatch(line); m != nil {
			if err := f.devices.Approve(m[1]); err != nil {
				t.Errorf("approving %s: %v", m[1], err)
			}
		}
	}
	io.Copy(io.Discard, stderr)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mcpauth login: %v\n%s", err, out.String())
	}
	for _, want := range []string{"Provider github: driver github", "Logged in.", "user:    octocat (583231)", "scopes:  repo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout is not empty: %q", stdout.String())
	}
	if n := f.Requests("/login/device/code"); n != 1 {
		t.Errorf("device authorizations = %d, want 1", n)
	}
}
