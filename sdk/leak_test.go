package sdk_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// TestNoTokenLeaks runs a full login, API calls and refreshes (access
// tokens live 3 s, so every call refreshes), then searches everything the
// server wrote — stdout, stderr, its log file, and every file under its
// HOME and TMPDIR — for the access tokens the API received and the refresh
// tokens and device codes the OP issued. There must be none: with the
// default memory store, and with store: file, whose encrypted token files
// (and key file: no keychain is reachable) are under HOME.
func TestNoTokenLeaks(t *testing.T) {
	for _, store := range []string{"memory", "file"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			testNoTokenLeaks(t, store)
		})
	}
}

func testNoTokenLeaks(t *testing.T, store string) {
	h := newHarness(t, zitadelop.Options{AccessTokenLifetime: 3 * time.Second})
	logFile := filepath.Join(t.TempDir(), "server.log")
	sp := h.serverCmd([]string{"-log-file", logFile, "-v"}, "MCPAUTH_STORE="+store)
	r := startRaw(t, sp, false, map[string]any{"elicitation": map[string]any{"form": map[string]any{}, "url": map[string]any{}}})
	ctx := testContext(t)

	call := func() {
		t.Helper()
		id := r.Send("tools/call", map[string]any{"name": "corp_call_api", "arguments": map[string]any{"path": "read"}, "_meta": map[string]any{"progressToken": "p"}})
		for {
			m := r.Next(ctx)
			switch {
			case m["method"] == "elicitation/create":
				p := m["params"].(map[string]any)
				approve(t, h.op, elicitation{Mode: "url", Message: p["message"].(string), URL: p["url"].(string)})
				r.Reply(m["id"], map[string]any{"action": "accept"})
			case m["method"] == nil && m["id"] == float64(id):
				if text := resultText(m["result"].(map[string]any)); !strings.HasPrefix(text, "200 read ok") {
					t.Fatalf("corp_call_api = %q", text)
				}
				return
			}
		}
	}
	for i := range 3 {
		if i > 0 {
			// Past half the 3 s lifetime the token counts as expired: each
			// later call refreshes.
			time.Sleep(1600 * time.Millisecond)
		}
		call()
	}
	r.Close()

	secrets := map[string]string{}
	for _, b := range h.api.Bearers() {
		secrets[b] = "access token"
	}
	if len(secrets) < 3 {
		t.Fatalf("the API saw %d access tokens, want 3 (one login, two refreshes)", len(secrets))
	}
	for _, rt := range opSecrets(t, h.op, "refreshTokens") {
		secrets[rt] = "refresh token"
	}
	for _, dc := range opSecrets(t, h.op, "deviceCodes") {
		secrets[dc] = "device code"
	}
	if len(secrets) < 5 {
		t.Fatalf("only %d secrets collected; the leak search would prove little", len(secrets))
	}

	places := map[string]string{"stdout": r.stdout.String(), "stderr": sp.stderr.String()}
	for _, dir := range []string{filepath.Dir(logFile), h.home, h.tmp} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("read %s: %v", path, err)
				}
				places[path] = string(b)
			}
			return nil
		})
	}
	tokenFiles := 0
	for path := range places {
		if strings.HasSuffix(path, ".token") {
			tokenFiles++
		}
	}
	if want := map[string]int{"memory": 0, "file": 1}[store]; tokenFiles != want {
		t.Errorf("%d token files under HOME, want %d with store %s", tokenFiles, want, store)
	}
	if !strings.Contains(places[logFile], "mcpauth: logged in") {
		t.Fatalf("the log file lacks the login line; is -log-file working?\n%s", places[logFile])
	}
	for where, text := range places {
		for secret, what := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s found in %s", what, where)
			}
		}
	}
	t.Logf("store %s: searched %d places (%d token files) for %d secrets", store, len(places), tokenFiles, len(secrets))
}

// opSecrets lists the keys of one of the example storage's secret maps
// (refreshTokens: refresh token → info; deviceCodes: device code → entry).
// The storage has no accessor for them; reflection reads the unexported
// map. GetClientByClientID takes the storage's lock first, ordering this
// read after the OP's writes for the race detector.
func opSecrets(t *testing.T, op *zitadelop.OP, field string) []string {
	op.Storage.GetClientByClientID(context.Background(), op.ClientID)
	m := reflect.ValueOf(op.Storage).Elem().FieldByName(field)
	if m.Kind() != reflect.Map {
		t.Fatalf("storage field %s is %v, not a map", field, m.Kind())
	}
	var out []string
	for _, k := range m.MapKeys() {
		out = append(out, k.String())
	}
	return out
}
