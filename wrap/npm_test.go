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
