package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/internal/optest/gitlabapi"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

func TestWrapUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--provider", "gitlab", "--env", "T"}, "no command to wrap"},
		{[]string{"--provider", "gitlab", "--env", "T", "--"}, "no command to wrap after --"},
		{[]string{"--env", "T", "--", "srv"}, "--provider is required"},
		{[]string{"--provider", "gitlab", "--", "srv"}, "--env is required"},
		{[]string{"--provider", "gitlab", "--env", "A=B", "--", "srv"}, "--env: variable name \"A=B\""},
		{[]string{"--provider", "gitlab", "--env", "T", "--env-format", "Bearer token", "--", "srv"}, "--env-format: env format \"Bearer token\": want {token} exactly once"},
		{[]string{"--provider", "gitlab", "--env", "T", "--mode", "lazzy", "--", "srv"}, "--mode: mode \"lazzy\""},
		{[]string{"--provder", "gitlab", "--", "srv"}, "flag provided but not defined: -provder"},
		{[]string{"--config", writeFile(t, filepath.Join(t.TempDir(), "c.yaml"), "providers:\n  - name: gitlab\n    issuer: https://gitlab.com\n    client_id: abc\n"),
			"--provider", "gitlb", "--env", "T", "--", "srv"}, `--provider "gitlb": no such provider in the configuration; configured: gitlab`},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), append([]string{"wrap"}, tc.args...), &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("wrap %q: exit %d, stderr:\n%s\nwant exit 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// wrapSummary is what testdata/wrapclient/client.mjs prints.
type wrapSummary struct {
	ServerInfo      map[string]any    `json:"serverInfo"`
	ProtocolVersion string            `json:"protocolVersion"`
	Results         map[string]string `json:"results"`
	Events          []string          `json:"events"`
	Elicitations    []struct {
		Mode, URL, Message, ID string
	} `json:"elicitations"`
	ToolsBefore []string `json:"toolsBefore"`
	ToolsAfter  []string `json:"toolsAfter"`
}

// TestWrapGitLab runs the real npm server-gitlab behind the mcpauth binary,
// driven by the TypeScript clients, against the embedded OP and a GitLab
// API fake that accepts only the OP's tokens: lazy login (with a refresh
// that restarts the server), explicit login, and a declined login. It
// counts the authorizations at the OP and the server's starts, and scans
// stdout, stderr, the files under HOME and TMPDIR and the server's argv
// for the tokens.
func TestWrapGitLab(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; the wrap tests need Node.js ≥ 20")
	}
	gitlabServer, err := filepath.Abs(filepath.Join("..", "..", "node_modules", "@modelcontextprotocol", "server-gitlab", "dist", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{gitlabServer, filepath.Join("..", "..", "node_modules", "@modelcontextprotocol", "client", "package.json")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is not installed: run npm ci at the repository root", p)
		}
	}
	bin := mcpauthBinary(t)
	for _, tc := range []struct {
		lib, version, scenario string
	}{
		{"sdk1", "legacy", "lazy"}, {"client2", "legacy", "lazy"}, {"client2", "2026-07-28", "lazy"},
		{"sdk1", "legacy", "explicit"}, {"client2", "legacy", "explicit"}, {"client2", "2026-07-28", "explicit"},
		{"sdk1", "legacy", "decline"},
	} {
		t.Run(tc.lib+"/"+tc.version+"/"+tc.scenario, func(t *testing.T) {
			t.Parallel()
			// Lazy: access tokens live 6 s (valid for 3 s, half the
			// lifetime), so a second search 4 s later needs a refresh.
			lifetime, refreshWait := time.Duration(0), time.Duration(0)
			if tc.scenario == "lazy" {
				lifetime, refreshWait = 6*time.Second, 4*time.Second
			}
			op := zitadelop.Start(t, zitadelop.Options{AccessTokenLifetime: lifetime})
			api := gitlabapi.Start(t, op.Issuer+"/userinfo")
			approver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				code, _ := io.ReadAll(r.Body)
				if err := op.ApproveDevice(r.Context(), string(code)); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
				}
			}))
			t.Cleanup(approver.Close)
			home, tmp := t.TempDir(), t.TempDir()
			cfg := writeFile(t, filepath.Join(home, "mcpauth.yaml"), fmt.Sprintf(`providers:
  - name: gitlab
    driver: gitlab
    issuer: %s
    client_id: %s
    scopes: [openid, offline_access, read_api]
    grant: device
    options: {api_url: %s}
`, op.Issuer, op.ClientID, api.APIURL()))
			stdoutCopy := filepath.Join(t.TempDir(), "wrap-stdout")
			mode := map[string]string{"explicit": "explicit"}[tc.scenario]
			if mode == "" {
				mode = "lazy"
			}
			// sh tees mcpauth's stdout, so the test sees every byte the client got.
			args := []string{"-c", `"$0" "$@" | tee "$MCPAUTH_TEST_STDOUT"`, bin, "wrap", "--config", cfg, "--provider", "gitlab",
				"--env", "GITLAB_PERSONAL_ACCESS_TOKEN", "--mode", mode, "--", node, gitlabServer}
			env := wrapTestEnv(home, tmp, "MCPAUTH_TEST_STDOUT="+stdoutCopy)
			spec, _ := json.Marshal(map[string]any{"command": "/bin/sh", "args": args, "env": envMap(env)})
			cmd := exec.Command(node, filepath.Join("testdata", "wrapclient", "client.mjs"))
			cmd.Env = append(os.Environ(), "MCPAUTH_TS_LIB="+tc.lib, "MCPAUTH_TS_VERSION="+tc.version, "MCPAUTH_TS_SCENARIO="+tc.scenario,
				"MCPAUTH_SERVER="+string(spec), "MCPAUTH_APPROVE_URL="+approver.URL,
				"MCPAUTH_REFRESH_MS="+strconv.Itoa(int(refreshWait.Milliseconds())))
			var stdout, stderr syncBuf
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			argv := watchArgv(cmd.Process.Pid, gitlabServer)
			runErr := cmd.Wait()
			seen := argv.stop()
			if t.Failed() || runErr != nil || os.Getenv("MCPAUTH_TEST_SERVER_LOG") == "1" {
				t.Logf("client and wrap stderr:\n%s", stderr.String())
			}
			if runErr != nil {
				t.Fatalf("node client: %v\nstdout: %s", runErr, stdout.String())
			}
			var got wrapSummary
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("node client output %q: %v", stdout.String(), err)
			}
			t.Logf("%+v", got)

			tokens := api.Bearers()
			authorizations, starts := op.Requests(op.DevicePath()), strings.Count(stderr.String(), "wrap: started the wrapped server")
			if tc.lib == "client2" && got.ProtocolVersion != map[string]string{"legacy": got.ProtocolVersion, "2026-07-28": "2026-07-28"}[tc.version] {
				t.Errorf("negotiated %q, want %s", got.ProtocolVersion, tc.version)
			}
			t.Logf("GitLab case %s/%s/%s: %d device authorizations at the OP, %d token endpoint requests, %d starts of server-gitlab, %d distinct tokens at the API",
				tc.lib, tc.version, tc.scenario, authorizations, op.Requests(op.TokenPath()), starts, len(tokens))
			found := `"path_with_namespace": "` + op.Username + `/infra"`
			switch tc.scenario {
			case "lazy":
				if !slices.Contains(got.ToolsBefore, "search_repositories") {
					t.Errorf("tools before login %v: want server-gitlab's, listed from a run with the placeholder", got.ToolsBefore)
				}
				for _, k := range []string{"search1", "search2"} {
					if !strings.Contains(got.Results[k], found) {
						t.Errorf("%s = %q, want the fake's project of %s", k, got.Results[k], op.Username)
					}
				}
				// placeholder run, a run with the first token, one after the refresh.
				if authorizations != 1 || starts != 3 || len(tokens) != 2 {
					t.Errorf("%d authorizations, %d starts, %d tokens at the API; want 1, 3 and 2 (login once, refresh restarts the server)", authorizations, starts, len(tokens))
				}
			case "explicit":
				if slices.Contains(got.ToolsBefore, "search_repositories") || !slices.Contains(got.ToolsBefore, "auth_login") {
					t.Errorf("tools before login %v: want auth tools only", got.ToolsBefore)
				}
				if !slices.Contains(got.ToolsAfter, "search_repositories") {
					t.Errorf("tools after login %v: want server-gitlab's", got.ToolsAfter)
				}
				if i, j := slices.Index(got.Events, "list_changed"), slices.Index(got.Events, "auth_login result"); i < 0 || i > j {
					t.Errorf("events %v: want list_changed before the auth_login result", got.Events)
				}
				if !strings.Contains(got.Results["search1"], found) {
					t.Errorf("search = %q", got.Results["search1"])
				}
				if authorizations != 1 || starts != 1 {
					t.Errorf("%d authorizations, %d starts; want 1 and 1 (the server starts only after the login)", authorizations, starts)
				}
			case "decline":
				if !strings.HasPrefix(got.Results["search1"], "ERROR: ") || strings.Contains(got.Results["search1"], "GitLab API") {
					t.Errorf("declined search = %q, want mcpauth's refusal, not an API answer", got.Results["search1"])
				}
				if len(tokens) != 0 || api.Refused() != 0 {
					t.Errorf("the API got %d tokens and refused %d requests after a decline; want none", len(tokens), api.Refused())
				}
			}
			if tc.scenario != "decline" {
				if len(got.Elicitations) != 1 || got.Elicitations[0].Mode != "url" || got.Elicitations[0].URL != op.Issuer+"/device" {
					t.Errorf("elicitations %+v, want one URL elicitation of the OP's device page", got.Elicitations)
				}
				if len(tokens) == 0 {
					t.Fatal("no token reached the API")
				}
			}

			// Leak scan: the tokens the API saw appear nowhere else.
			out, _ := os.ReadFile(stdoutCopy)
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) != nil || m["jsonrpc"] != "2.0" {
					t.Errorf("mcpauth wrap wrote a line that is not JSON-RPC to stdout: %.200q", line)
				}
			}
			places := map[string]string{"stdout": string(out), "stderr": stderr.String(), "client output": stdout.String()}
			for _, dir := range []string{home, tmp} {
				_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
					if err == nil && d.Type().IsRegular() {
						b, _ := os.ReadFile(path)
						places[path] = string(b)
					}
					return nil
				})
			}
			for i, a := range seen {
				places[fmt.Sprintf("argv of server-gitlab run %d", i)] = a
			}
			for _, tok := range tokens {
				for where, s := range places {
					if strings.Contains(s, tok) {
						t.Errorf("an access token is in %s", where)
					}
				}
			}
			if tc.scenario != "decline" && len(seen) == 0 {
				t.Error("never saw server-gitlab running: the argv scan checked nothing")
			}
		})
	}
}

// wrapTestEnv is the wrap process's environment: no desktop or SSH
// variables (the device grant is chosen), HOME and TMPDIR in the test's
// directories, no GITLAB_API_URL (the config's api_url must reach the
// server).
func wrapTestEnv(home, tmp string, extra ...string) []string {
	drop := []string{"DISPLAY=", "WAYLAND_DISPLAY=", "SSH_", "MCP_OAUTH_CLIENT_ID=", "HOME=", "TMPDIR=", "XDG_", "DBUS_", "MCPAUTH_", "GITLAB_"}
	var out []string
	for _, kv := range os.Environ() {
		if !slices.ContainsFunc(drop, func(d string) bool { return strings.HasPrefix(kv, d) }) {
			out = append(out, kv)
		}
	}
	out = append(out, "HOME="+home, "TMPDIR="+tmp, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(tmp, "no-session-bus"))
	return append(out, extra...)
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// argvWatch records the command lines of the processes running script
// under a process tree while it runs (a poll of /proc, bounded by the
// tree's life).
type argvWatch struct {
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	seen map[int]string
}

func watchArgv(root int, script string) *argvWatch {
	w := &argvWatch{done: make(chan struct{}), seen: map[int]string{}}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			entries, _ := os.ReadDir("/proc")
			for _, e := range entries {
				pid, err := strconv.Atoi(e.Name())
				if err != nil {
					continue
				}
				b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
				if err != nil || !bytes.Contains(b, []byte(script)) {
					continue
				}
				w.mu.Lock()
				w.seen[pid] = string(b)
				w.mu.Unlock()
			}
			select {
			case <-w.done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *argvWatch) stop() []string {
	close(w.done)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, a := range w.seen {
		out = append(out, a)
	}
	return out
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuf) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// TestWrapDocSnippets checks docs/wrap.md: every YAML block is a valid
// config file, and every host config entry runs mcpauth wrap with flags
// parseWrapArgs accepts.
func TestWrapDocSnippets(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "wrap.md"))
	if err != nil {
		t.Fatal(err)
	}
	yamls := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1)
	for i, m := range yamls {
		if _, err := config.Parse(fmt.Sprintf("docs/wrap.md YAML block %d", i+1), m[1]); err != nil {
			t.Errorf("%v", err)
		}
	}
	jsons := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1)
	for i, m := range jsons {
		var entry map[string]struct {
			Command string   `json:"command"`
			Args    []string `json:"args"`
		}
		if err := json.Unmarshal([]byte("{"+string(m[1])+"}"), &entry); err != nil {
			t.Errorf("docs/wrap.md JSON block %d: %v", i+1, err)
			continue
		}
		for name, e := range entry {
			var stderr bytes.Buffer
			if e.Command != "mcpauth" || len(e.Args) == 0 || e.Args[0] != "wrap" {
				t.Errorf("docs/wrap.md %s: %s %v is not mcpauth wrap", name, e.Command, e.Args)
			} else if _, err := parseWrapArgs(e.Args[1:], &stderr); err != nil {
				t.Errorf("docs/wrap.md %s: %v\n%s", name, err, stderr.String())
			}
		}
	}
	if len(yamls) < 3 || len(jsons) < 3 {
		t.Errorf("%d YAML and %d JSON blocks: the page should show GitLab, GitHub and a generic server", len(yamls), len(jsons))
	}
}
