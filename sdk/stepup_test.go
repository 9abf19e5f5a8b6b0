package sdk_test

import (
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// TestStepUp: the API answers 403 insufficient_scope scope="email"; the
// user authorizes the union of scopes and the POST is sent again (2025-11-25:
// from inside the request; 2026-07-28: the handler runs again after the
// input_required round trip) and succeeds.
func TestStepUp(t *testing.T) {
	for _, cfg := range goClients {
		t.Run(cfg.lib+"/"+cfg.version, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			var rec recorder
			cfg.elicit = "url"
			cfg.onElicit = func(e elicitation) string { rec.add(e); return approve(t, h.op, e) }
			c := startClient(t, h.serverCmd(nil), cfg)
			ctx := testContext(t)
			res, err := c.Call(ctx, "corp_call_api", map[string]any{"method": "POST", "path": "write", "body": "hello"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := `200 wrote "hello" as ` + h.op.Username + "@example.com"
			if res.IsError || res.Text != want {
				t.Fatalf("corp_call_api = %+v, want %q", res, want)
			}
			if n := len(rec.all()); n != 2 {
				t.Errorf("%d elicitations, want 2 (login, then step-up)", n)
			}
			if n := h.op.Requests(h.op.DevicePath()); n != 2 {
				t.Errorf("%d device authorizations, want 2", n)
			}
			bearers := h.api.Bearers()
			if len(bearers) != 2 || bearers[0] == bearers[1] {
				t.Errorf("the API saw %d distinct tokens in a row, want 2 (the refused one, then the stepped-up one)", len(bearers))
			}
			// The stepped-up token keeps working without another login.
			res, err = c.Call(ctx, "corp_call_api", map[string]any{"method": "POST", "path": "write", "body": "again"}, nil)
			if err != nil || res.IsError || len(rec.all()) != 2 {
				t.Fatalf("second write = %+v, %v; elicitations %d", res, err, len(rec.all()))
			}
		})
	}
}

// TestStepUpRefusedAgain: an API that still refuses after the step-up is
// reported to the tool as a clear error, after exactly one step-up.
func TestStepUpRefusedAgain(t *testing.T) {
	for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "mcp-go", version: v20260728}} {
		t.Run(cfg.version, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			var rec recorder
			cfg.elicit = "url"
			cfg.onElicit = func(e elicitation) string { rec.add(e); return approve(t, h.op, e) }
			c := startClient(t, h.serverCmd(nil), cfg)
			res, err := c.Call(testContext(t), "corp_call_api", map[string]any{"method": "POST", "path": "never", "body": "x"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !res.IsError || !strings.Contains(res.Text, "still refused") || !strings.Contains(res.Text, "writing needs the email scope") {
				t.Fatalf("corp_call_api = %+v, want a still-refused error with the API's description", res)
			}
			if n := len(rec.all()); n != 2 {
				t.Errorf("%d elicitations, want 2 (one step-up only)", n)
			}
		})
	}
}
