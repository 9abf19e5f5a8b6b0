package wrap_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/gitlabapi"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/sdk"
	"github.com/mcpauth/mcpauth/wrap"
)

// npmServer returns the command running an npm MCP server from the
// repository's node_modules (package-lock.json pins the versions).
func npmServer(t *testing.T, pkg string) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; the wrap tests need Node.js ≥ 20")
	}
	entry := filepath.Join("..", "node_modules", "@modelcontextprotocol", pkg, "dist", "index.js")
	if _, err := os.Stat(entry); err != nil {
		t.Fatalf("@modelcontextprotocol/%s is not installed: run npm ci at the repository root", pkg)
	}
	abs, _ := filepath.Abs(entry)
	return []string{node, abs}
}

// opToken logs in at op through the device grant, approved by the test.
func opToken(t *testing.T, op *zitadelop.OP) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := op.OAuth2Config("", "openid")
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.ApproveDevice(ctx, da.UserCode); err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// TestWrapGitLabServerPlumbing runs the real npm server-gitlab behind the
// proxy with a token the test got from the OP itself: the token reaches
// the server only through its environment, GITLAB_API_URL points it at the
// fake, and the fake answers with the token's subject. A token the OP did
// not issue is refused.
func TestWrapGitLabServerPlumbing(t *testing.T) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	op := zitadelop.Start(t, zitadelop.Options{})
	api := gitlabapi.Start(t, op.Issuer+"/userinfo")
	cmd := npmServer(t, "server-gitlab")
	for _, tc := range []struct {
		name, token, want string
	}{
		{"OP token", opToken(t, op), `"path_with_namespace": "` + op.Username + `/infra"`},
		{"foreign token", "glpat-not-issued-by-the-op", "GitLab API error: Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &testGate{token: tc.token}
			h := startProxyCmd(t, g, cmd, "GITLAB_PERSONAL_ACCESS_TOKEN", "GITLAB_API_URL="+api.APIURL())
			init := h.initialize()
			if info, _ := init["serverInfo"].(map[string]any); !strings.Contains(info["name"].(string), "gitlab") {
				t.Errorf("serverInfo %v, want server-gitlab's", init["serverInfo"])
			}
			if names := toolNames(t, h.call(`1`, "tools/list", nil)); !slices.Contains(names, "search_repositories") {
				t.Fatalf("tools %v", names)
			}
			got := text(h.call(`2`, "tools/call", map[string]any{"name": "search_repositories", "arguments": map[string]any{"search": "infra"}}))
			if !strings.Contains(got, tc.want) {
				t.Errorf("search_repositories = %q, want it to contain %q", got, tc.want)
			}
			if b := api.Bearers(); len(b) == 0 || b[len(b)-1] != tc.token {
				t.Errorf("the API did not receive the token from the server's environment")
			}
			if strings.Contains(h.stderr.String(), tc.token) {
				t.Errorf("the token is in the proxy's or the server's stderr")
			}
		})
	}
}

// TestWrapGitHubNothingBeforeLogin wraps the real npm server-github, which
// starts without a token and would call api.github.com unauthenticated,
// behind the real login core (sdk.Auth against the embedded OP). Its
// stdin is teed to a file: before a login, no tools/call (nor anything
// else that makes it call the API) reaches it, whatever the client can
// show; in explicit mode it does not even start.
func TestWrapGitHubNothingBeforeLogin(t *testing.T) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	node := npmServer(t, "server-github")
	noElicitation := map[string]any{}
	urlElicitation := map[string]any{"elicitation": map[string]any{"url": map[string]any{}}}
	for _, tc := range []struct {
		name, mode string
		caps       map[string]any
		answer     string // to the elicitation; "" when none is expected
		want       string // in the call's answer
	}{
		{"lazy/url-declined", "lazy", urlElicitation, "decline", "declined"},
		{"lazy/no-elicitation", "lazy", noElicitation, "", "/device"},
		{"explicit/url-cancelled", "explicit", urlElicitation, "cancel", "declined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := zitadelop.Start(t, zitadelop.Options{})
			dir := t.TempDir()
			stdinLog := filepath.Join(dir, "server-stdin")
			cfg := filepath.Join(dir, "mcpauth.yaml")
			if err := os.WriteFile(cfg, []byte(`mode: `+tc.mode+`
providers:
  - name: github
    driver: oidc
    isolation: in-process
    issuer: `+op.Issuer+`
    client_id: `+op.ClientID+`
    scopes: [openid, offline_access]
    grant: device
`), 0o600); err != nil {
				t.Fatal(err)
			}
			var logs syncBuffer
			auth, err := sdk.New(context.Background(), sdk.Options{ConfigFile: cfg, Environ: []string{}, Logger: newLogger(&logs), ServerName: "server-github", QuietWait: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(auth.Close)
			gate, err := wrap.NewGate(auth, sdk.Need("github"))
			if err != nil {
				t.Fatal(err)
			}
			shell := []string{"/bin/sh", "-c", `tee "$STDIN_LOG" | exec "$0" "$1"`, node[0], node[1]}
			h := startProxyCmd(t, gate, shell, "GITHUB_PERSONAL_ACCESS_TOKEN", "STDIN_LOG="+stdinLog)
			r := h.call(`"init"`, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": tc.caps, "clientInfo": map[string]any{"name": "rawhost", "version": "1"}})
			if r.Error != nil {
				t.Fatalf("initialize: %s", r.Error.Message)
			}
			h.notify("notifications/initialized", nil)
			names := toolNames(t, h.call(`1`, "tools/list", nil))
			if tc.mode == "lazy" != slices.Contains(names, "search_repositories") {
				t.Errorf("%s mode lists %v", tc.mode, names)
			}
			call := h.start(`2`, "tools/call", map[string]any{"name": "search_repositories", "arguments": map[string]any{"query": "mcpauth"}})
			if tc.answer != "" {
				e := h.request("elicitation/create")
				h.reply(e.ID, map[string]any{"action": tc.answer})
			}
			got := text(h.wait(call, "search_repositories"))
			if !strings.Contains(got, tc.want) || strings.Contains(got, "GitHub") && strings.Contains(got, "API") {
				t.Errorf("search_repositories before a login = %q, want mcpauth's answer containing %q", got, tc.want)
			}
			sent, err := os.ReadFile(stdinLog)
			switch {
			case tc.mode == "explicit" && !os.IsNotExist(err):
				t.Errorf("server-github started before the login in explicit mode; it got:\n%s", sent)
			case tc.mode == "lazy" && !strings.Contains(string(sent), `"method":"tools/list"`):
				t.Errorf("the tee saw no tools/list (%v): the check below would prove nothing:\n%s", err, sent)
			}
			for _, method := range []string{"tools/call", "resources/", "prompts/get", "completion/"} {
				if strings.Contains(string(sent), `"method":"`+method) {
					t.Errorf("server-github received %s before any login:\n%s", method, sent)
				}
			}
			if t.Failed() {
				t.Logf("mcpauth log:\n%s", logs.String())
			}
		})
	}
}
