package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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

	"github.com/mcpauth/mcpauth/internal/optest/gitlabapi"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/wrap"
)

// wrapStart is one "wrap: started the wrapped server" log line.
type wrapStart struct {
	run, pid int
	with     string // "token" or "placeholder"
}

var wrapStartLine = regexp.MustCompile(`msg="wrap: started the wrapped server" run=(\d+) pid=(\d+) with=(\w+)`)

func wrapStarts(stderr string) []wrapStart {
	var out []wrapStart
	for _, m := range wrapStartLine.FindAllStringSubmatch(stderr, -1) {
		run, _ := strconv.Atoi(m[1])
		pid, _ := strconv.Atoi(m[2])
		out = append(out, wrapStart{run, pid, m[3]})
	}
	return out
}

// TestWrapStoredLoginStartsAtOnce: with `store: file`, a first `mcpauth
// wrap` process logs in (lazy mode, the TS client approving the device
// code) and a search reaches the GitLab fake; a second, fresh wrap process
// with the same HOME and config starts the real server-gitlab with the
// stored token on its very first start — never the placeholder — and the
// search succeeds with no new authorization at the OP and no elicitation.
// The second client declines any elicitation, so a login there would also
// fail the search.
func TestWrapStoredLoginStartsAtOnce(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; the wrap tests need Node.js ≥ 20")
	}
	gitlabServer, err := filepath.Abs(filepath.Join("..", "..", "node_modules", "@modelcontextprotocol", "server-gitlab", "dist", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{gitlabServer, filepath.Join("..", "..", "node_modules", "@modelcontextprotocol", "sdk", "package.json")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is not installed: run npm ci at the repository root", p)
		}
	}
	bin := mcpauthBinary(t)

	op := zitadelop.Start(t, zitadelop.Options{})
	api := gitlabapi.Start(t, op.Issuer+"/userinfo")
	approver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := io.ReadAll(r.Body)
		if err := op.ApproveDevice(r.Context(), string(code)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	}))
	t.Cleanup(approver.Close)
	authURL, err := url.Parse(op.OAuth2Config("").Endpoint.AuthURL)
	if err != nil {
		t.Fatal(err)
	}
	// authorizations counts every start of a login at the OP: device
	// authorizations and authorization-code redirects.
	authorizations := func() int { return op.Requests(op.DevicePath()) + op.Requests(authURL.Path) }

	home, tmp := t.TempDir(), t.TempDir()
	cfg := writeFile(t, filepath.Join(home, "mcpauth.yaml"), fmt.Sprintf(`providers:
  - name: gitlab
    driver: gitlab
    issuer: %s
    client_id: %s
    scopes: [openid, offline_access, read_api]
    grant: device
    store: file
    options: {api_url: %s}
`, op.Issuer, op.ClientID, api.APIURL()))
	env := wrapTestEnv(home, tmp)
	args := []string{"wrap", "--config", cfg, "--provider", "gitlab", "--env", "GITLAB_PERSONAL_ACCESS_TOKEN", "--mode", "lazy", "--", node, gitlabServer}
	spec, _ := json.Marshal(map[string]any{"command": bin, "args": args, "env": envMap(env)})

	// session runs one TS client (sdk1) over a fresh mcpauth wrap process.
	session := func(name, scenario string) (wrapSummary, string, map[int]string) {
		t.Helper()
		cmd := exec.Command(node, filepath.Join("testdata", "wrapclient", "client.mjs"))
		cmd.Env = append(os.Environ(), "MCPAUTH_TS_LIB=sdk1", "MCPAUTH_TS_VERSION=legacy", "MCPAUTH_TS_SCENARIO="+scenario,
			"MCPAUTH_SERVER="+string(spec), "MCPAUTH_APPROVE_URL="+approver.URL, "MCPAUTH_REFRESH_MS=0")
		var stdout, stderr syncBuf
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		envs := watchEnv(gitlabServer, "GITLAB_PERSONAL_ACCESS_TOKEN")
		runErr := cmd.Wait()
		seen := envs.stop()
		if runErr != nil || os.Getenv("MCPAUTH_TEST_SERVER_LOG") == "1" {
			t.Logf("%s: client and wrap stderr:\n%s", name, stderr.String())
		}
		if runErr != nil {
			t.Fatalf("%s: node client: %v\nstdout: %s", name, runErr, stdout.String())
		}
		var got wrapSummary
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("%s: node client output %q: %v", name, stdout.String(), err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s: client summary %+v", name, got)
			}
		})
		return got, stderr.String(), seen
	}
	found := `"path_with_namespace": "` + op.Username + `/infra"`

	// Run 1: no stored login; the first tools/call logs in.
	got1, stderr1, _ := session("run 1", "lazy")
	if !strings.Contains(got1.Results["search1"], found) {
		t.Fatalf("run 1: search = %q, want the fake's project of %s", got1.Results["search1"], op.Username)
	}
	if len(got1.Elicitations) != 1 {
		t.Errorf("run 1: elicitations %+v, want the one login", got1.Elicitations)
	}
	logins1 := authorizations()
	if logins1 != 1 {
		t.Errorf("run 1: %d authorizations at the OP, want 1", logins1)
	}
	tokens1 := api.Bearers()
	if len(tokens1) != 1 {
		t.Fatalf("run 1: the API saw %d distinct tokens, want 1", len(tokens1))
	}
	stored := tokens1[0]
	starts1 := wrapStarts(stderr1)
	t.Logf("run 1: starts %+v", starts1)
	if len(starts1) != 2 || starts1[0].with != "placeholder" || starts1[1].with != "token" {
		t.Errorf("run 1: starts %+v, want the placeholder run then the token run", starts1)
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "mcpauth", "tokens")); err != nil {
		t.Errorf("run 1 left no file store: %v", err)
	}
	tokenRequests1 := op.Requests(op.TokenPath())

	// Run 2: a fresh wrap process over the same store. Any elicitation is
	// declined, so only the stored login can make the search work.
	got2, stderr2, envs2 := session("run 2", "decline")
	starts2 := wrapStarts(stderr2)
	t.Logf("run 2: starts %+v; environments of server-gitlab seen: %d; %d authorizations, %d token requests at the OP",
		starts2, len(envs2), authorizations()-logins1, op.Requests(op.TokenPath())-tokenRequests1)
	switch {
	case len(starts2) == 0:
		t.Errorf("run 2: server-gitlab never started")
	case starts2[0].with != "token":
		t.Errorf("run 2: the first start of server-gitlab was with the %s, want the stored token; starts %+v", starts2[0].with, starts2)
	}
	if len(starts2) != 1 {
		t.Errorf("run 2: %d starts of server-gitlab %+v, want 1 (with the stored token at once)", len(starts2), starts2)
	}
	for pid, v := range envs2 {
		if want := stored; v != want {
			what := "another value"
			if v == wrap.Placeholder {
				what = "the placeholder"
			}
			t.Errorf("run 2: server-gitlab pid %d ran with %s in GITLAB_PERSONAL_ACCESS_TOKEN, want the stored token", pid, what)
		}
	}
	if len(starts2) > 0 {
		if _, ok := envs2[starts2[0].pid]; !ok {
			// The watch polls; a start it missed is still checked by the log line and the API.
			t.Logf("run 2: the environment of the first start (pid %d) was not read", starts2[0].pid)
		}
	}
	if !strings.Contains(got2.Results["search1"], found) {
		t.Errorf("run 2: search = %q, want the fake's project of %s", got2.Results["search1"], op.Username)
	}
	if !slices.Contains(got2.ToolsBefore, "search_repositories") {
		t.Errorf("run 2: tools %v, want server-gitlab's", got2.ToolsBefore)
	}
	if len(got2.Elicitations) != 0 {
		t.Errorf("run 2: elicitations %+v, want none (a stored login)", got2.Elicitations)
	}
	if n := authorizations(); n != logins1 {
		t.Errorf("run 2: %d new authorizations at the OP, want none", n-logins1)
	}
	if tokens := api.Bearers(); !slices.Equal(tokens, []string{stored}) {
		t.Errorf("run 2: the API saw %d distinct tokens over both runs, want only the stored one", len(tokens))
	}
}

// envWatch records, per process running script, the value of one
// environment variable (read from /proc/PID/environ, which only the same
// user can read), while the test's process tree runs: a poll, bounded by
// stop.
type envWatch struct {
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	seen map[int]string
}

func watchEnv(script, name string) *envWatch {
	w := &envWatch{done: make(chan struct{}), seen: map[int]string{}}
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
				environ, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
				if err != nil {
					continue
				}
				for _, kv := range bytes.Split(environ, []byte{0}) {
					if v, ok := bytes.CutPrefix(kv, []byte(name+"=")); ok {
						w.mu.Lock()
						w.seen[pid] = string(v)
						w.mu.Unlock()
					}
				}
			}
			select {
			case <-w.done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *envWatch) stop() map[int]string {
	close(w.done)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}
