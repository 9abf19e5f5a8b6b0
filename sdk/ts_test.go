package sdk_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// tsSummary is what testdata/tsclient/client.mjs prints.
type tsSummary struct {
	ProtocolVersion string            `json:"protocolVersion"`
	Results         map[string]string `json:"results"`
	Events          []string          `json:"events"`
	Elicitations    []struct {
		Mode, URL, Message, ID string
	} `json:"elicitations"`
	ToolsBefore []string `json:"toolsBefore"`
	ToolsAfter  []string `json:"toolsAfter"`
}

// TestTypeScriptClients runs the official TypeScript clients from npm
// (versions locked in package-lock.json) against the example server:
// @modelcontextprotocol/sdk 1.x (2025-11-25) and @modelcontextprotocol/client
// 2.x with versionNegotiation legacy and pinned to 2026-07-28.
func TestTypeScriptClients(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; the TypeScript client tests need Node.js ≥ 20")
	}
	for _, pkg := range []string{"@modelcontextprotocol/sdk", "@modelcontextprotocol/client"} {
		if _, err := os.Stat(filepath.Join("..", "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("%s is not installed: run npm ci at the repository root (scripts/test does)", pkg)
		}
	}
	for _, tc := range []struct{ lib, version, wantVersion string }{
		{"sdk1", "legacy", v20251125},
		{"client2", "legacy", v20251125},
		{"client2", v20260728, v20260728},
	} {
		for _, scenario := range []string{"lazy", "explicit"} {
			t.Run(tc.lib+"/"+tc.version+"/"+scenario, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, zitadelop.Options{})
				approver := newApprover(t, h.op)

				sp := h.serverCmd([]string{"-mode", map[string]string{"lazy": "lazy", "explicit": "explicit"}[scenario]})
				env := map[string]string{}
				for _, kv := range sp.cmd.Env {
					k, v, _ := strings.Cut(kv, "=")
					env[k] = v
				}
				spec, _ := json.Marshal(map[string]any{"command": sp.cmd.Path, "args": sp.cmd.Args[1:], "env": env})
				cmd := exec.Command(node, filepath.Join("testdata", "tsclient", "client.mjs"))
				cmd.Env = append(os.Environ(),
					"MCPAUTH_TS_LIB="+tc.lib, "MCPAUTH_TS_VERSION="+tc.version, "MCPAUTH_TS_SCENARIO="+scenario,
					"MCPAUTH_SERVER="+string(spec), "MCPAUTH_APPROVE_URL="+approver.URL)
				var stdout bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, sp.stderr // node's and the server's stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("node client: %v\nstdout: %s", err, stdout.String())
				}
				var got tsSummary
				if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
					t.Fatalf("node client output %q: %v", stdout.String(), err)
				}
				t.Logf("%s: %+v", tc.lib, got)

				if tc.lib == "client2" && got.ProtocolVersion != tc.wantVersion {
					t.Errorf("negotiated %q, want %s", got.ProtocolVersion, tc.wantVersion)
				}
				if got.Results["corp_whoami"] != "subject: "+h.op.Username || got.Results["ping"] != "pong" {
					t.Errorf("results %v", got.Results)
				}
				if len(got.Elicitations) != 1 {
					t.Fatalf("%d elicitations, want 1", len(got.Elicitations))
				}
				e := got.Elicitations[0]
				if e.Mode != "url" || e.URL != h.op.Issuer+"/device" || strings.Contains(e.Message, "http") {
					t.Errorf("elicitation %+v, want URL mode with the verification URI and no URL in the message", e)
				}
				if tc.wantVersion == v20251125 {
					if e.ID == "" {
						t.Error("no elicitationId on a 2025-11-25 URL elicitation")
					} else if !slices.Contains(got.Events, "complete:"+e.ID) {
						t.Errorf("events %v lack notifications/elicitation/complete for %s", got.Events, e.ID)
					}
				} else if e.ID != "" {
					t.Errorf("elicitationId %q on a 2026-07-28 elicitation", e.ID)
				}
				if scenario == "explicit" {
					if want := []string{"auth_login", "auth_status", "hello"}; !slices.Equal(got.ToolsBefore, want) {
						t.Errorf("tools before login %v, want %v", got.ToolsBefore, want)
					}
					if !slices.Contains(got.ToolsAfter, "ping") || !slices.Contains(got.ToolsAfter, "auth_logout") {
						t.Errorf("tools after login %v", got.ToolsAfter)
					}
					changed, result := slices.Index(got.Events, "list_changed"), slices.Index(got.Events, "auth_login result")
					if changed < 0 || changed > result {
						t.Errorf("events %v: want list_changed before the auth_login result", got.Events)
					}
					if !strings.Contains(got.Results["auth_login"], "logged in as") {
						t.Errorf("auth_login = %q", got.Results["auth_login"])
					}
				}
			})
		}
	}
}

// TestTypeScriptClientsOnExamples: the example servers — examples/github
// on mcp-go and examples/github-gosdk on go-sdk, unmodified — driven over
// stdio by the TypeScript clients. The user's environment points their
// github provider at the test OP (the MCPAUTH_PROVIDERS_GITHUB_* variables
// a user would set for GitHub Enterprise) and -api at the test API.
func TestTypeScriptClientsOnExamples(t *testing.T) {
	if testSDK != "mcp-go" {
		t.Skip("each example has its own SDK: this test runs in the default (mcp-go) pass only")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; the TypeScript client tests need Node.js ≥ 20")
	}
	dir := t.TempDir()
	for _, ex := range []string{"github", "github-gosdk"} {
		bin := filepath.Join(dir, ex)
		if out, err := exec.Command("go", "build", "-o", bin, "../examples/"+ex).CombinedOutput(); err != nil {
			t.Fatalf("building examples/%s: %v\n%s", ex, err, out)
		}
		for _, tc := range []struct{ lib, version string }{{"sdk1", "legacy"}, {"client2", "legacy"}, {"client2", v20260728}} {
			t.Run(ex+"/"+tc.lib+"/"+tc.version, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, zitadelop.Options{})
				approver := newApprover(t, h.op)
				env := map[string]string{}
				for _, kv := range h.env(
					"MCPAUTH_PROVIDERS_GITHUB_DRIVER=oidc", "MCPAUTH_PROVIDERS_GITHUB_ISSUER="+h.op.Issuer,
					"MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID="+h.op.ClientID, "MCPAUTH_PROVIDERS_GITHUB_SCOPES=openid offline_access",
					"MCPAUTH_PROVIDERS_GITHUB_APIS="+h.api.URL, "MCPAUTH_PROVIDERS_GITHUB_ISOLATION=in-process",
				) {
					k, v, _ := strings.Cut(kv, "=")
					env[k] = v
				}
				spec, _ := json.Marshal(map[string]any{"command": bin, "args": []string{"-config", os.DevNull, "-api", h.api.URL}, "env": env})
				cmd := exec.Command(node, filepath.Join("testdata", "tsclient", "client.mjs"))
				cmd.Env = append(os.Environ(), "MCPAUTH_TS_LIB="+tc.lib, "MCPAUTH_TS_VERSION="+tc.version, "MCPAUTH_TS_SCENARIO=lazy",
					"MCPAUTH_TS_TOOLS=list_repos", "MCPAUTH_SERVER="+string(spec), "MCPAUTH_APPROVE_URL="+approver.URL)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("node client: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
				}
				var got tsSummary
				if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
					t.Fatalf("node client output %q: %v\nstderr: %s", stdout.String(), err, stderr.String())
				}
				want := `200 OK` + "\n" + `[{"full_name":"` + h.op.Username + `/demo"}]`
				if strings.TrimSpace(got.Results["list_repos"]) != want {
					t.Errorf("list_repos = %q, want %q\nstderr: %s", got.Results["list_repos"], want, stderr.String())
				}
				if len(got.Elicitations) != 1 || got.Elicitations[0].Mode != "url" {
					t.Errorf("elicitations %+v, want one URL elicitation", got.Elicitations)
				}
			})
		}
	}
}

// newApprover is the TypeScript client's "user": an endpoint that approves
// the device code POSTed to it at op.
func newApprover(t *testing.T, op *zitadelop.OP) *httptest.Server {
	approver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := io.ReadAll(r.Body)
		if err := op.ApproveDevice(r.Context(), string(code)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	}))
	t.Cleanup(approver.Close)
	return approver
}
