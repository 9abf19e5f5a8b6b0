package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/devidp"
)

// TestMain lets the in-process demo tests (run(ctx, "demo", …)) start the
// example server: the demo re-executes its own executable, which here is
// the test binary, with the hidden verb.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == exampleServerVerb {
		main()
	}
	os.Exit(m.Run())
}

// TestDemoInstalled runs the demo the way a user who ran go install does:
// a binary built with -trimpath (no source paths in it), started from an
// empty directory, with a PATH on which there is no go command.
func TestDemoInstalled(t *testing.T) {
	t.Parallel()
	binDir, work, home := t.TempDir(), t.TempDir(), t.TempDir()
	bin := filepath.Join(binDir, "mcpauth")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var path []string
	for _, dir := range []string{binDir, "/usr/bin", "/bin"} {
		if _, err := os.Stat(filepath.Join(dir, "go")); err != nil {
			path = append(path, dir)
		}
	}
	env := append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "GO")
	}), "PATH="+strings.Join(path, string(os.PathListSeparator)), "HOME="+home)

	// The proof that go is not reachable, by the shell's own lookup.
	which := exec.Command("/bin/sh", "-c", "command -v go")
	which.Env, which.Dir = env, work
	if out, err := which.Output(); err == nil {
		t.Fatalf("PATH=%s still finds go (%s): this test proves nothing", strings.Join(path, ":"), bytes.TrimSpace(out))
	}

	// A bound for a hung demo; its own --timeout ends it first.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "demo", "--auto-approve", "--timeout", "4m")
	cmd.Env, cmd.Dir = env, work
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mcpauth demo --auto-approve in an empty directory without go: %v\n%s", err, &stderr)
	}
	if stdout.Len() != 0 {
		t.Errorf("the demo wrote on stdout: %q", stdout.String())
	}
	wantInOrder(t, stderr.String(),
		"[3/8] Get the example MCP server (built into this binary)",
		"server       mcpauth __example-server (this binary: the example server is built in)",
		"command      mcpauth __example-server -name dev -issuer http://127.0.0.1:",
		"← dev_whoami: subject: test-user",
		"Demo complete",
	)
	if entries, err := os.ReadDir(work); err != nil || len(entries) != 0 {
		t.Errorf("the demo left %d entries in its working directory (%v)", len(entries), err)
	}
	if t.Failed() {
		t.Logf("output:\n%s", &stderr)
	}
}

// TestExampleServerVerb: the hidden verb is the example server, configured
// by the same MCPAUTH_* variables as go build ./internal/testserver, with
// nothing but JSON-RPC on stdout; the help does not list it.
func TestExampleServerVerb(t *testing.T) {
	t.Parallel()
	idp := startDevIDP(t)
	bin := mcpauthBinary(t)
	s := startRawMCP(t, exec.Command(bin, exampleServerVerb),
		"MCPAUTH_NAME=corp", "MCPAUTH_ISSUER="+idp.Issuer, "MCPAUTH_CLIENT_ID="+idp.ClientID,
		"MCPAUTH_API=http://127.0.0.1:1/v1", "MCPAUTH_GRANT=device", "MCPAUTH_MODE=lazy")
	s.initialize(map[string]any{})
	if got, want := s.toolNames(), []string{"auth_logout", "auth_status", "corp_call_api", "corp_whoami", "hello", "ping"}; !slices.Equal(got, want) {
		t.Errorf("tools/list: %v, want %v", got, want)
	}
	if got := s.callText("hello"); got != "hello" {
		t.Errorf("hello answered %q", got)
	}
	s.close()

	code, out := runCLI(t, "--help")
	if code != 0 || strings.Contains(out, exampleServerVerb) || !strings.Contains(out, "demo") {
		t.Errorf("mcpauth --help (exit %d) lists the hidden verb, or lacks the commands:\n%s", code, out)
	}
	if code, out := runCLI(t, exampleServerVerb, "-bogus"); code != 2 || !strings.Contains(out, "flag provided but not defined: -bogus") {
		t.Errorf("mcpauth %s -bogus: exit %d, want 2:\n%s", exampleServerVerb, code, out)
	}
	if code, out := runCLI(t, exampleServerVerb); code != 1 || !strings.Contains(out, "no provider") {
		t.Errorf("mcpauth %s without a provider: exit %d, want 1:\n%s", exampleServerVerb, code, out)
	}
}

// TestExampleServerVerbBuiltinDriver: with a config file the example
// server's provider runs the built-in oidc driver as a subprocess (the
// default isolation), which re-executes this same binary in driver mode.
// Under the hidden verb that must still work: the login goes through (the
// devserver approves the device code at once; this client accepts the URL
// elicitation), and stdout stays JSON-RPC.
func TestExampleServerVerbBuiltinDriver(t *testing.T) {
	t.Parallel()
	idp := startDevIDP(t)
	bin := mcpauthBinary(t)
	cfg := writeFile(t, filepath.Join(t.TempDir(), "config.yaml"), fmt.Sprintf(`providers:
  - name: dev
    driver: oidc
    isolation: subprocess
    issuer: %s
    client_id: %s
    scopes: [openid, offline_access]
    grant: device
`, idp.Issuer, idp.ClientID))
	s := startRawMCP(t, exec.Command(bin, exampleServerVerb, "-config", cfg))
	s.initialize(map[string]any{"elicitation": map[string]any{"url": map[string]any{}}})
	if got := s.callText("dev_whoami"); got != "subject: "+idp.Username {
		t.Errorf("dev_whoami answered %q, want the subject", got)
	}
	if s.elicitations != 1 {
		t.Errorf("%d login elicitations, want 1", s.elicitations)
	}
	s.close()
	if t.Failed() {
		t.Logf("server log:\n%s", s.stderr)
	}
}

func startDevIDP(t *testing.T) *devidp.Server {
	t.Helper()
	idp, err := devidp.New(devidp.Options{AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	return idp
}

// rawMCP is a stdio MCP session spoken line by line, so that every byte
// the server writes on stdout is checked to be a JSON-RPC 2.0 message.
type rawMCP struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan []byte
	stderr *syncBuffer
	nextID int

	elicitations int // elicitation/create requests accepted
}

func startRawMCP(t *testing.T, cmd *exec.Cmd, env ...string) *rawMCP {
	t.Helper()
	cmd.Env = append(demoServerEnv(), env...)
	s := &rawMCP{t: t, cmd: cmd, lines: make(chan []byte), stderr: &syncBuffer{}}
	cmd.Stderr = s.stderr
	var err error
	if s.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			s.lines <- slices.Clone(sc.Bytes())
		}
	}()
	return s
}

// request sends a request and returns its result, failing the test on an
// error answer, on anything on stdout that is not JSON-RPC 2.0, or after a
// minute.
func (s *rawMCP) request(method string, params any) json.RawMessage {
	s.t.Helper()
	s.nextID++
	s.send(map[string]any{"jsonrpc": "2.0", "id": s.nextID, "method": method, "params": params})
	timeout := time.After(time.Minute)
	for {
		var line []byte
		var ok bool
		select {
		case line, ok = <-s.lines:
		case <-timeout:
			s.t.Fatalf("%s: no answer in a minute; stderr:\n%s", method, s.stderr)
		}
		if !ok {
			s.t.Fatalf("%s: the server closed stdout; stderr:\n%s", method, s.stderr)
		}
		var msg struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Method  string          `json:"method"`
			Result  json.RawMessage `json:"result"`
			Error   json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(line, &msg); err != nil || msg.JSONRPC != "2.0" {
			s.t.Fatalf("stdout carries something other than JSON-RPC 2.0: %q", line)
		}
		switch {
		case msg.Method == "elicitation/create" && msg.ID != nil:
			// URL mode: accept means the user was shown the link.
			s.elicitations++
			s.send(map[string]any{"jsonrpc": "2.0", "id": msg.ID, "result": map[string]any{"action": "accept"}})
		case msg.ID == nil || msg.Method != "":
			// A notification or another request of the server's: not the answer.
		case string(msg.ID) != strconv.Itoa(s.nextID):
			s.t.Fatalf("%s: answer to id %s, want %d: %s", method, msg.ID, s.nextID, line)
		case msg.Error != nil:
			s.t.Fatalf("%s: %s", method, msg.Error)
		default:
			return msg.Result
		}
	}
}

func (s *rawMCP) send(msg map[string]any) {
	s.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.in.Write(append(b, '\n')); err != nil {
		s.t.Fatalf("writing to the server: %v; stderr:\n%s", err, s.stderr)
	}
}

// initialize opens the session, declaring the client capabilities caps.
func (s *rawMCP) initialize(caps map[string]any) {
	s.t.Helper()
	s.request("initialize", map[string]any{
		"protocolVersion": "2025-11-25",
		"capabilities":    caps,
		"clientInfo":      map[string]any{"name": "example-server-test", "version": "0"},
	})
	s.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
}

func (s *rawMCP) toolNames() []string {
	s.t.Helper()
	var res struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(s.request("tools/list", map[string]any{}), &res); err != nil {
		s.t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

func (s *rawMCP) callText(name string) string {
	s.t.Helper()
	var res struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(s.request("tools/call", map[string]any{"name": name, "arguments": map[string]any{}}), &res); err != nil {
		s.t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		b.WriteString(c.Text)
	}
	if res.IsError {
		s.t.Errorf("%s failed: %s", name, b.String())
	}
	return b.String()
}

// close closes the server's stdin and expects it to exit 0 with nothing
// more on stdout than JSON-RPC.
func (s *rawMCP) close() {
	s.t.Helper()
	s.in.Close()
	for line := range s.lines {
		if !json.Valid(line) {
			s.t.Errorf("stdout carries something other than JSON-RPC: %q", line)
		}
	}
	if err := s.cmd.Wait(); err != nil {
		s.t.Errorf("the server exited with %v after stdin closed; stderr:\n%s", err, s.stderr)
	}
}
