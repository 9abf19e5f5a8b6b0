package sdk_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// goClients is the client matrix: each Go library at each spec version.
var goClients = []clientConfig{
	{lib: "mcp-go", version: v20251125},
	{lib: "mcp-go", version: v20260728},
	{lib: "go-sdk", version: v20251125},
	{lib: "go-sdk", version: v20260728},
}

// recorder collects the elicitations a client received.
type recorder struct {
	mu  sync.Mutex
	got []elicitation
}

func (r *recorder) add(e elicitation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, e)
}

func (r *recorder) all() []elicitation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// TestLazyLogin: a protected call without a token shows a URL-mode
// elicitation with the OP's verification URI and the code, waits for the
// approval, and runs; the next call runs without asking.
func TestLazyLogin(t *testing.T) {
	for _, cfg := range goClients {
		t.Run(cfg.lib+"/"+cfg.version, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			var rec recorder
			cfg.elicit = "url"
			cfg.onElicit = func(e elicitation) string { rec.add(e); return approve(t, h.op, e) }
			c := startClient(t, h.serverCmd(nil), cfg)
			ctx := testContext(t)

			res, err := c.Call(ctx, "corp_whoami", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.IsError || res.Text != "subject: "+h.op.Username {
				t.Fatalf("corp_whoami = %+v, want the subject %s", res, h.op.Username)
			}
			got := rec.all()
			if len(got) != 1 {
				t.Fatalf("%d elicitations, want 1: %+v", len(got), got)
			}
			e := got[0]
			if e.Mode != "url" || e.URL != h.op.Issuer+"/device" {
				t.Errorf("elicitation mode %q url %q, want url mode with the OP's verification URI %s/device", e.Mode, e.URL, h.op.Issuer)
			}
			if strings.Contains(e.Message, "http") || !userCodeRE.MatchString(e.Message) {
				t.Errorf("message %q must carry the code and no URL", e.Message)
			}
			if cfg.version == v20251125 {
				if e.ID == "" {
					t.Error("2025-11-25 URL elicitation without elicitationId")
				}
			} else if e.ID != "" {
				t.Errorf("2026-07-28 elicitation carries elicitationId %q", e.ID)
			}

			res, err = c.Call(ctx, "ping", nil, nil)
			if err != nil || res.Text != "pong" {
				t.Fatalf("ping = %+v, %v", res, err)
			}
			if n := len(rec.all()); n != 1 {
				t.Errorf("second call asked again: %d elicitations", n)
			}
			if n := h.op.Requests(h.op.DevicePath()); n != 1 {
				t.Errorf("%d device authorizations at the OP, want 1", n)
			}
			if cfg.version == v20251125 {
				// notifications/elicitation/complete for the elicitationId;
				// it may trail the tool result.
				waitFor(t, func() bool { return slices.Contains(c.Events(), "complete:"+e.ID) }, func() string {
					return fmt.Sprintf("notifications/elicitation/complete for %s; events %v", e.ID, c.Events())
				})
			}
		})
	}
}

// TestLazyPKCE: with the PKCE grant the URL is the OP's authorization URL,
// and the browser login (loopback redirect) completes the call.
func TestLazyPKCE(t *testing.T) {
	for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20260728}, {lib: "go-sdk", version: v20251125}} {
		t.Run(cfg.lib+"/"+cfg.version, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			var rec recorder
			cfg.elicit = "url"
			cfg.onElicit = func(e elicitation) string { rec.add(e); return approve(t, h.op, e) }
			c := startClient(t, h.serverCmd([]string{"-grant", "pkce"}), cfg)
			res, err := c.Call(testContext(t), "corp_whoami", nil, nil)
			if err != nil || res.IsError || res.Text != "subject: "+h.op.Username {
				t.Fatalf("corp_whoami = %+v, %v", res, err)
			}
			got := rec.all()
			if len(got) != 1 || !strings.HasPrefix(got[0].URL, h.op.Issuer+"/authorize?") {
				t.Fatalf("elicitations %+v, want one with the OP's authorization URL", got)
			}
			if strings.Contains(got[0].Message, "http") {
				t.Errorf("message %q holds a URL", got[0].Message)
			}
			if n := h.op.Requests(h.op.DevicePath()); n != 0 {
				t.Errorf("%d device authorizations, want none with the PKCE grant", n)
			}
		})
	}
}

// TestConcurrentCallsOneLogin: 50 concurrent protected calls cause one
// authorization at the OP and one elicitation, and all succeed.
func TestConcurrentCallsOneLogin(t *testing.T) {
	for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "mcp-go", version: v20260728}} {
		t.Run(cfg.version, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			var elicitations atomic.Int32
			cfg.elicit = "url"
			cfg.onElicit = func(e elicitation) string { elicitations.Add(1); return approve(t, h.op, e) }
			c := startClient(t, h.serverCmd(nil), cfg)
			ctx := testContext(t)
			const n = 50
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					res, err := c.Call(ctx, "ping", nil, nil)
					if err == nil && (res.IsError || res.Text != "pong") {
						err = fmt.Errorf("call %d: %+v", i, res)
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if got := h.op.Requests(h.op.DevicePath()); got != 1 {
				t.Errorf("%d device authorizations at the OP, want 1", got)
			}
			if got := elicitations.Load(); got != 1 {
				t.Errorf("%d elicitations, want 1", got)
			}
		})
	}
}
