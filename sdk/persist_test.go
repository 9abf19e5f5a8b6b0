package sdk_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/internal/secretservice"
)

// storeEnv is the server environment for a persistent store: MCPAUTH_STORE,
// and for the keychain a private Secret Service (skipped where none can
// be started, unless CI=true).
func storeEnv(t *testing.T, store string) []string {
	t.Helper()
	env := []string{"MCPAUTH_STORE=" + store}
	if store != "keychain" {
		return env
	}
	dir, err := os.MkdirTemp("", "ss") // short: a socket path is at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	svc, err := secretservice.Start(ctx, dir)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Secret Service under CI=true: %v", err)
		}
		t.Skipf("NO SECRET SERVICE, keychain store not tested: %v", err)
	}
	t.Cleanup(func() { svc.Close() })
	return append(env, "DBUS_SESSION_BUS_ADDRESS="+svc.Address)
}

// noPrompt is an elicitation handler for a server that must not ask.
func noPrompt(t *testing.T) func(elicitation) string {
	return func(e elicitation) string {
		t.Errorf("unexpected login prompt: %+v", e)
		return "cancel"
	}
}

// TestRestartUsesStoredLogin: a server with a persistent store logs in and
// exits; a new server process over the same store answers a protected call
// without a prompt and without a device authorization at the OP.
func TestRestartUsesStoredLogin(t *testing.T) {
	for _, store := range []string{"file", "keychain"} {
		t.Run(store, func(t *testing.T) {
			h := newHarness(t, zitadelop.Options{})
			env := storeEnv(t, store)
			ctx := testContext(t)
			first := clientConfig{lib: "mcp-go", version: v20251125, elicit: "url",
				onElicit: func(e elicitation) string { return approve(t, h.op, e) }}
			sp := h.serverCmd(nil, env...)
			c := startClient(t, sp, first)
			if res, err := c.Call(ctx, "ping", nil, nil); err != nil || res.Text != "pong" {
				t.Fatalf("first server: ping = %+v, %v", res, err)
			}
			c.(*mcpGoClient).c.Close()
			sp.cmd.Wait()
			logins := h.op.Requests(h.op.DevicePath())
			if logins != 1 {
				t.Fatalf("%d device authorizations for the first login, want 1", logins)
			}

			again := clientConfig{lib: "go-sdk", version: v20260728, elicit: "url", onElicit: noPrompt(t)}
			c2 := startClient(t, h.serverCmd(nil, env...), again)
			if res, err := c2.Call(ctx, "corp_whoami", nil, nil); err != nil || res.Text != "subject: "+h.op.Username {
				t.Fatalf("restarted server: corp_whoami = %+v, %v", res, err)
			}
			if n := h.op.Requests(h.op.DevicePath()) - logins; n != 0 {
				t.Errorf("the restarted server caused %d device authorizations at the OP, want 0", n)
			}
			t.Logf("store %s: device authorizations at the OP after restart-then-call: %d", store, h.op.Requests(h.op.DevicePath())-logins)
		})
	}
}

// TestTwoProcessesOneLogin: two server processes sharing a file store are
// called at once, before anyone logged in. One shows the login, the other
// waits for the login lock and then uses the first one's login: exactly
// one device authorization at the OP, both calls succeed.
func TestTwoProcessesOneLogin(t *testing.T) {
	h := newHarness(t, zitadelop.Options{})
	env := storeEnv(t, "file")
	ctx := testContext(t)
	var mu sync.Mutex
	prompts := 0
	onElicit := func(e elicitation) string {
		mu.Lock()
		prompts++
		mu.Unlock()
		return approve(t, h.op, e)
	}
	cfg := clientConfig{lib: "mcp-go", version: v20251125, elicit: "url", onElicit: onElicit}
	clients := []testClient{startClient(t, h.serverCmd(nil, env...), cfg), startClient(t, h.serverCmd(nil, env...), cfg)}
	var wg sync.WaitGroup
	results := make([]toolResult, 2)
	errs := make([]error, 2)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.Call(ctx, "ping", nil, nil)
		}()
	}
	wg.Wait()
	for i := range clients {
		if errs[i] != nil || results[i].Text != "pong" {
			t.Errorf("server %d: ping = %+v, %v", i, results[i], errs[i])
		}
	}
	n := h.op.Requests(h.op.DevicePath())
	if n != 1 || prompts != 1 {
		t.Errorf("%d device authorizations at the OP and %d prompts, want 1 and 1", n, prompts)
	}
	t.Logf("two processes at once: %d device authorization(s) at the OP, %d prompt(s)", n, prompts)
}

// TestKilledLoginHolder: the process holding the login lock is killed
// (SIGKILL) in the middle of its login; the other process, blocked on the
// lock until then, gets it and shows its own login.
func TestKilledLoginHolder(t *testing.T) {
	h := newHarness(t, zitadelop.Options{})
	env := storeEnv(t, "file")
	ctx := testContext(t)

	holderPrompt := make(chan struct{}, 1)
	holder := h.serverCmd(nil, env...)
	hc := startClient(t, holder, clientConfig{lib: "mcp-go", version: v20251125, elicit: "url",
		onElicit: func(elicitation) string {
			holderPrompt <- struct{}{}
			<-ctx.Done() // the user never answers; the process dies first
			return "cancel"
		}})
	go hc.Call(ctx, "ping", nil, nil)
	select {
	case <-holderPrompt:
	case <-ctx.Done():
		t.Fatal("the first server showed no login")
	}

	waiterPrompt := make(chan time.Time, 1)
	wc := startClient(t, h.serverCmd(nil, env...), clientConfig{lib: "mcp-go", version: v20251125, elicit: "url",
		onElicit: func(e elicitation) string {
			waiterPrompt <- time.Now()
			return approve(t, h.op, e)
		}})
	done := make(chan toolResult, 1)
	go func() {
		res, err := wc.Call(ctx, "ping", nil, nil)
		if err != nil {
			t.Errorf("second server: %v", err)
		}
		done <- res
	}()
	// While the first holds the lock the second shows nothing.
	select {
	case <-waiterPrompt:
		t.Fatal("the second server prompted while the first held the login lock")
	case <-time.After(2 * time.Second):
	}
	killed := time.Now()
	if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	const bound = 20 * time.Second
	select {
	case at := <-waiterPrompt:
		t.Logf("the second server prompted %v after the holder was killed", at.Sub(killed).Round(time.Millisecond))
	case <-time.After(bound):
		t.Fatalf("the second server did not proceed within %v of the holder's death", bound)
	}
	if res := <-done; res.Text != "pong" {
		t.Errorf("second server: ping = %+v", res)
	}
	if n := h.op.Requests(h.op.DevicePath()); n != 2 {
		t.Errorf("%d device authorizations, want 2 (the dead one's and the second's)", n)
	}
}

// TestLogoutForgetsStoredLogin: auth_logout in explicit mode revokes the
// login at the OP (RFC 7009: its refresh token is gone from the OP's
// storage) and removes the stored login, so a restarted server is not
// logged in; the result says so and never shows a token.
func TestLogoutForgetsStoredLogin(t *testing.T) {
	h := newHarness(t, zitadelop.Options{})
	env := storeEnv(t, "file")
	ctx := testContext(t)
	cfg := clientConfig{lib: "mcp-go", version: v20251125, elicit: "url",
		onElicit: func(e elicitation) string { return approve(t, h.op, e) }}
	sp := h.serverCmd([]string{"-mode", "explicit"}, env...)
	c := startClient(t, sp, cfg)
	if res, err := c.Call(ctx, "auth_login", nil, nil); err != nil || res.IsError {
		t.Fatalf("auth_login = %+v, %v", res, err)
	}
	issued := opSecrets(t, h.op, "refreshTokens")
	if len(issued) == 0 {
		t.Fatal("the OP holds no refresh token after the login")
	}
	res, err := c.Call(ctx, "auth_logout", nil, nil)
	if err != nil || res.IsError || !strings.Contains(res.Text, "revoked at the issuer") {
		t.Fatalf("auth_logout = %+v, %v; want it to say the token was revoked", res, err)
	}
	for _, rt := range issued {
		if strings.Contains(res.Text, rt) {
			t.Error("auth_logout's result shows the refresh token")
		}
	}
	if left := opSecrets(t, h.op, "refreshTokens"); len(left) != 0 {
		t.Errorf("the OP still holds %d refresh tokens after the logout; want them revoked", len(left))
	}
	c.(*mcpGoClient).c.Close()
	sp.cmd.Wait()

	c2 := startClient(t, h.serverCmd([]string{"-mode", "explicit"}, env...), clientConfig{lib: "mcp-go", version: v20251125, elicit: "none"})
	res, err = c2.Call(ctx, "auth_status", nil, nil)
	if err != nil || !strings.Contains(res.Text, "not logged in") {
		t.Errorf("after logout and restart: auth_status = %+v, %v; want not logged in", res, err)
	}
}

// TestUnreachableKeychainIsAStartupError: store: keychain where no
// keychain answers stops the server at start, naming the way out, rather
// than running with logins that silently do not persist.
func TestUnreachableKeychainIsAStartupError(t *testing.T) {
	h := newHarness(t, zitadelop.Options{})
	sp := h.serverCmd(nil, "MCPAUTH_STORE=keychain") // the harness gives it no session bus
	done := make(chan error, 1)
	go func() { done <- sp.cmd.Run() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the server started with an unreachable keychain")
		}
	case <-time.After(30 * time.Second):
		sp.cmd.Process.Kill()
		t.Fatal("the server did not stop")
	}
	if msg := sp.stderr.String(); !strings.Contains(msg, "store: keychain") || !strings.Contains(msg, "use store: file") {
		t.Errorf("stderr does not explain the keychain failure:\n%s", msg)
	}
}
