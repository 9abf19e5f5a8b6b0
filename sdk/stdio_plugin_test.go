package sdk_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/registry"
)

// TestPluginCannotDisturbTheMCPStream runs the example server from a config
// file whose driver is an external plugin that reads the stdin it inherited
// and prints JSON-RPC-looking lines to stdout on every call. A full device
// login and a protected call go through; the server's stdout carries only
// the server's own JSON-RPC messages, every request is answered (nothing was
// stolen from stdin), and the plugin's prints land in the server's log.
func TestPluginCannotDisturbTheMCPStream(t *testing.T) {
	h := newHarness(t, zitadelop.Options{})
	pluginDir := t.TempDir()
	plugin := filepath.Join(pluginDir, "noisy-driver")
	if out, err := exec.Command("go", "build", "-o", plugin, "./testdata/noisyplugin").CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	sum, err := registry.FileSHA256(plugin)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte(`plugin_dir: `+pluginDir+`
providers:
  - name: corp
    driver: external
    issuer: `+h.op.Issuer+`
    client_id: `+h.op.ClientID+`
    scopes: [openid, offline_access]
    grant: device
    plugin: {path: noisy-driver, sha256: `+sum+`}
`), 0o600)
	cmd := exec.Command(serverBin, "-config", cfg, "-wait", "60s")
	cmd.Env = h.env()
	sp := &serverProc{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = sp.stderr
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server stderr:\n%s", sp.stderr.String())
		}
	})
	r := startRaw(t, sp, false, map[string]any{}) // no elicitation: the link comes in the result
	ctx := testContext(t)

	// Each round sends a tool call and a ping and waits for both answers.
	answered := 0
	call := func() string {
		id := r.Send("tools/call", map[string]any{"name": "corp_whoami", "arguments": map[string]any{}})
		ping := r.Send("ping", map[string]any{})
		var text string
		for got := 0; got < 2; {
			m := r.Next(ctx)
			if m["method"] != nil {
				continue
			}
			switch fmt.Sprint(m["id"]) {
			case fmt.Sprint(id):
				res, _ := m["result"].(map[string]any)
				text = resultText(res)
			case fmt.Sprint(ping):
			default:
				t.Fatalf("response to an unknown request: %v", m)
			}
			got++
			answered++
		}
		return text
	}
	first := call()
	code := userCodeRE.FindString(first)
	if code == "" {
		t.Fatalf("first call gave no device code: %q\nserver stderr:\n%s", first, sp.stderr.String())
	}
	if err := h.op.ApproveDevice(ctx, code); err != nil {
		t.Fatal(err)
	}
	var second string
	for range 40 { // bounded: the background login finishes within a few polls
		if second = call(); !strings.Contains(second, code) && !strings.Contains(strings.ToLower(second), "still waiting") {
			break
		}
	}
	if second != "subject: "+h.op.Username {
		t.Fatalf("protected call after approval = %q", second)
	}
	r.Close()

	out := r.stdout.String()
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, `{"jsonrpc":"2.0"`) && !strings.Contains(line, `"jsonrpc":"2.0"`) {
			t.Errorf("stdout line %d is not JSON-RPC: %q", i, line)
		}
	}
	if strings.Contains(out, "injected by a plugin") {
		t.Fatalf("the plugin's output reached the MCP stream:\n%s", out)
	}
	logs := sp.stderr.String()
	if strings.Contains(logs, "STOLE") {
		t.Fatalf("the plugin read the host's stdin:\n%s", logs)
	}
	if !strings.Contains(logs, "injected by a plugin") {
		t.Fatalf("the plugin's prints are not in the server log (did the plugin run?):\n%s", logs)
	}
	if answered < 4 {
		t.Fatalf("answered %d requests", answered)
	}
}
