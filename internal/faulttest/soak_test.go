package faulttest_test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// soakPause is the pause between two calls of the soak.
const soakPause = 20 * time.Millisecond

// TestSoak is opt-in: MCPAUTH_SOAK=10m runs it for that long. Through the
// real SDK (internal/testserver under the mcp-go client) against an OP issuing
// 2-second access tokens, it calls corp_whoami (which sends the token to the
// OP's userinfo endpoint, so a stale token fails the call) in a loop for the
// duration: 0 failed calls, 1 device authorization; it reports the refreshes
// and the server's RSS at start and end.
func TestSoak(t *testing.T) {
	v := os.Getenv("MCPAUTH_SOAK")
	if v == "" {
		t.Skip("opt-in: MCPAUTH_SOAK=10m runs the soak for 10 minutes")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > 2*time.Hour {
		t.Fatalf("MCPAUTH_SOAK=%q: want a duration up to 2h", v)
	}
	op := zitadelop.Start(t, zitadelop.Options{AccessTokenLifetime: 2 * time.Second})
	stderr := &syncWriter{}
	c, cmd, _ := startServer(t, op, stderr)
	ctx := t.Context()
	if err := call(ctx, c, "corp_whoami", ""); err != nil {
		t.Fatalf("first call (login): %v", err)
	}
	pid := cmd.Process.Pid
	rssStart := vmRSS(t, pid)
	logins := op.Requests(op.TokenPath()) // the device polls of the login
	maxCalls := int(d/soakPause) + 1      // the loop is bounded in count and time
	var calls, failed int
	var firstErr error
	deadline := time.Now().Add(d)
	for calls < maxCalls && time.Now().Before(deadline) {
		calls++
		if err := call(ctx, c, "corp_whoami", ""); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
		time.Sleep(soakPause)
	}
	rssEnd := vmRSS(t, pid)
	refreshes := op.Requests(op.TokenPath()) - logins
	t.Logf("soak %v: %d calls, %d failed, %d device authorization(s), %d refreshes, server RSS %s → %s, test RSS %s",
		d, calls, failed, op.Requests(op.DevicePath()), refreshes, rssStart, rssEnd, vmRSS(t, os.Getpid()))
	if failed != 0 {
		t.Errorf("%d of %d calls failed; first: %v", failed, calls, firstErr)
	}
	if n := op.Requests(op.DevicePath()); n != 1 {
		t.Errorf("%d device authorizations, want 1", n)
	}
	if refreshes == 0 {
		t.Error("no refresh in the soak: the 2 s tokens were never renewed")
	}
}

// vmRSS reads VmRSS from /proc/PID/status.
func vmRSS(t *testing.T, pid int) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Logf("reading RSS: %v", err)
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
