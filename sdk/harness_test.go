package sdk_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// testSDK is the MCP SDK the test server serves with (its -sdk flag, through
// MCPAUTH_SDK): MCPAUTH_TEST_SDK, default mcp-go. scripts/test runs this
// package's suite once per adapter.
var testSDK = cmp.Or(os.Getenv("MCPAUTH_TEST_SDK"), "mcp-go")

// Binaries built once per test binary by TestMain.
var (
	serverBin string // internal/testserver
	bareBin   string // bench/bareserver/mcpgo
)

func TestMain(m *testing.M) {
	// zitadel/oidc logs every OAuth error answer (authorization_pending
	// included) through slog.Default.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	dir, err := os.MkdirTemp("", "mcpauth-sdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin, bareBin = filepath.Join(dir, "server"), filepath.Join(dir, "bareserver")
	for bin, pkg := range map[string]string{serverBin: "../internal/testserver", bareBin: "../bench/bareserver/mcpgo"} {
		args := []string{"build", "-o", bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, pkg)...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n", pkg, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// harness is one test's world: an OP, an API, and home and temp
// directories for the server subprocess.
type harness struct {
	t    testing.TB
	op   *zitadelop.OP
	api  *testAPI
	home string
	tmp  string

	mu      sync.Mutex
	servers []*serverProc
}

func newHarness(t testing.TB, opts zitadelop.Options) *harness {
	t.Helper()
	h := &harness{t: t, op: zitadelop.Start(t, opts), home: t.TempDir(), tmp: t.TempDir()}
	h.api = newTestAPI(t, h.op)
	return h
}

// serverProc is a started example server's process.
type serverProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
}

// serverCmd builds the command starting the example server against h's
// OP and API: lazy mode, device grant (no desktop session in its
// environment), scopes "openid offline_access". args come after the
// defaults; flags may repeat (the last wins).
func (h *harness) serverCmd(args []string, env ...string) *serverProc {
	base := []string{"-issuer", h.op.Issuer, "-client-id", h.op.ClientID, "-scopes", "openid offline_access", "-api", h.api.URL, "-wait", "60s"}
	cmd := exec.Command(serverBin, append(base, args...)...)
	cmd.Env = h.env(env...)
	sp := &serverProc{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = sp.stderr
	h.mu.Lock()
	h.servers = append(h.servers, sp)
	h.mu.Unlock()
	h.t.Cleanup(func() {
		if strings.Contains(sp.stderr.String(), "DATA RACE") || strings.Contains(sp.stderr.String(), "panic:") {
			h.t.Errorf("server stderr shows a race or panic:\n%s", sp.stderr.String())
		}
		if h.t.Failed() || os.Getenv("MCPAUTH_TEST_SERVER_LOG") == "1" {
			h.t.Logf("server stderr:\n%s", sp.stderr.String())
		}
	})
	return sp
}

// env is the subprocess environment: no desktop session or SSH variables
// (so grant selection is deterministic), no CIMD variable, HOME and TMPDIR
// in the test's directories.
func (h *harness) env(extra ...string) []string {
	drop := []string{"DISPLAY=", "WAYLAND_DISPLAY=", "SSH_", "MCP_OAUTH_CLIENT_ID=", "HOME=", "TMPDIR=", "XDG_", "GORACE=", "DBUS_", "MCPAUTH_"}
	var out []string
outer:
	for _, kv := range os.Environ() {
		for _, d := range drop {
			if strings.HasPrefix(kv, d) {
				continue outer
			}
		}
		out = append(out, kv)
	}
	// No session bus: a store never reaches the user's own keychain (a
	// test that wants one passes a private Secret Service's address).
	out = append(out, "MCPAUTH_SDK="+testSDK, "HOME="+h.home, "TMPDIR="+h.tmp, "GORACE=halt_on_error=1",
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(h.tmp, "no-session-bus"))
	return append(out, extra...)
}

// userCode finds a zitadel user code (XXXX-XXXX) in text.
var userCodeRE = regexp.MustCompile(`\b[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}\b`)

// elicitation is what a client's elicitation handler received.
type elicitation struct {
	Mode    string // "url", "form" or ""
	Message string
	URL     string
	ID      string // elicitationId (2025-11-25 URL mode)
	Schema  any
}

// approve acts as the user: approves the device code shown (at op), or
// walks the browser login of a PKCE authorization URL. It reports a
// failure to t and answers accept either way.
func approve(t testing.TB, op *zitadelop.OP, e elicitation) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := userCodeRE.FindString(e.Message); code != "" {
		if err := op.ApproveDevice(ctx, code); err != nil {
			t.Errorf("approve device code %s: %v", code, err)
		}
		return "accept"
	}
	if e.Mode == "url" && strings.Contains(e.URL, "/authorize") {
		if err := op.Browse(ctx, e.URL); err != nil {
			t.Errorf("browser login: %v", err)
		}
		return "accept"
	}
	t.Errorf("elicitation shows neither a user code nor an authorization URL: %+v", e)
	return "cancel"
}

// testAPI is a resource server on loopback. It checks the bearer token at
// the OP's userinfo endpoint and records every token it receives.
//
//	GET  /read   200 for any valid token
//	GET  /user/repos  a GitHub-shaped repository list owned by the token's subject
//	POST /write  403 insufficient_scope scope="email" unless the token has the email scope
//	POST /never  403 insufficient_scope scope="email", always
type testAPI struct {
	*httptest.Server
	op *zitadelop.OP

	mu      sync.Mutex
	bearers []string
}

func newTestAPI(t testing.TB, op *zitadelop.OP) *testAPI {
	a := &testAPI{op: op}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func (a *testAPI) serve(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="test"`)
		http.Error(w, "no token", http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.bearers = append(a.bearers, tok)
	a.mu.Unlock()
	claims, status := a.userinfo(r.Context(), tok)
	if status != http.StatusOK {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/read":
		fmt.Fprintf(w, "read ok for %s", claims["sub"])
	case r.Method == http.MethodGet && r.URL.Path == "/user/repos":
		// GitHub's shape, for the example servers.
		json.NewEncoder(w).Encode([]map[string]any{{"full_name": fmt.Sprint(claims["sub"], "/demo")}})
	case r.Method == http.MethodPost && (r.URL.Path == "/write" || r.URL.Path == "/never"):
		if claims["email"] == nil || r.URL.Path == "/never" {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="email", error_description="writing needs the email scope"`)
			http.Error(w, "insufficient scope", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "wrote %q as %s", body, claims["email"])
	default:
		http.NotFound(w, r)
	}
}

// userinfo asks the OP who the token belongs to; the claims show its
// scopes (email appears only with the email scope).
func (a *testAPI) userinfo(ctx context.Context, tok string) (map[string]any, int) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.op.Issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, http.StatusBadGateway
	}
	defer resp.Body.Close()
	var claims map[string]any
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&claims) != nil {
		return nil, resp.StatusCode
	}
	return claims, http.StatusOK
}

// Bearers returns the distinct tokens the API received, in order.
func (a *testAPI) Bearers() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, b := range a.bearers {
		if len(out) == 0 || out[len(out)-1] != b {
			out = append(out, b)
		}
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// hostOf returns u's host:port.
func hostOf(t testing.TB, u string) string {
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("parse %q: %v", u, err)
	}
	return p.Host
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// waitFor waits for an event that may trail a tool result (a notification
// sent after it, say). The bound is generous: it only ends a test that
// would otherwise hang, it does not measure anything.
func waitFor(t testing.TB, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("gave up waiting for %s", what())
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
