package sdk_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// TestDeclineStopsLogin: decline and cancel stop the login, the tool does
// not run, and approving the old code afterwards gives the server nothing:
// the next call starts a new login.
func TestDeclineStopsLogin(t *testing.T) {
	for _, action := range []string{"decline", "cancel"} {
		for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "go-sdk", version: v20260728}} {
			t.Run(action+"/"+cfg.lib+"/"+cfg.version, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, zitadelop.Options{})
				var rec recorder
				cfg.elicit = "url"
				cfg.onElicit = func(e elicitation) string {
					rec.add(e)
					if len(rec.all()) == 1 {
						return action
					}
					return approve(t, h.op, e)
				}
				c := startClient(t, h.serverCmd(nil), cfg)
				ctx := testContext(t)
				res, err := c.Call(ctx, "ping", nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !res.IsError || !strings.Contains(res.Text, "declined") || strings.Contains(res.Text, "pong") {
					t.Fatalf("ping after %s = %+v, want a declined error and no tool run", action, res)
				}
				// The user approves the old code anyway: the stopped login
				// must not pick it up.
				code := userCodeRE.FindString(rec.all()[0].Message)
				if err := h.op.ApproveDevice(ctx, code); err != nil {
					t.Fatalf("approve the old code: %v", err)
				}
				res, err = c.Call(ctx, "ping", nil, nil)
				if err != nil || res.Text != "pong" {
					t.Fatalf("second ping = %+v, %v", res, err)
				}
				if n := len(rec.all()); n != 2 {
					t.Errorf("%d elicitations, want 2 (the declined login must not be reused)", n)
				}
				if n := h.op.Requests(h.op.DevicePath()); n != 2 {
					t.Errorf("%d device authorizations, want 2", n)
				}
			})
		}
	}
}

// TestNoElicitationRetry: a client without elicitation gets the link and
// code in a tool result; the login goes on in the background, and calling
// again after approving it succeeds.
func TestNoElicitationRetry(t *testing.T) {
	for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "mcp-go", version: v20260728}, {lib: "go-sdk", version: v20251125}} {
		t.Run(cfg.lib+"/"+cfg.version, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			cfg.elicit = "none"
			c := startClient(t, h.serverCmd(nil), cfg)
			ctx := testContext(t)
			res, err := c.Call(ctx, "corp_whoami", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			code := userCodeRE.FindString(res.Text)
			if !res.IsError || code == "" || !strings.Contains(res.Text, h.op.Issuer+"/device") || !strings.Contains(res.Text, "call this tool again") {
				t.Fatalf("first call = %+v, want an error result with the verification URI, the code and a retry hint", res)
			}
			if err := h.op.ApproveDevice(ctx, code); err != nil {
				t.Fatal(err)
			}
			res, err = c.Call(ctx, "corp_whoami", nil, nil)
			if err != nil || res.IsError || res.Text != "subject: "+h.op.Username {
				t.Fatalf("retry = %+v, %v", res, err)
			}
			if n := h.op.Requests(h.op.DevicePath()); n != 1 {
				t.Errorf("%d device authorizations, want 1", n)
			}
		})
	}
}

// TestFormOnlyClient: a client with form elicitation only gets a form
// whose message carries the device code and the verification URI.
func TestFormOnlyClient(t *testing.T) {
	for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "go-sdk", version: v20260728}} {
		t.Run(cfg.lib+"/"+cfg.version, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			var rec recorder
			cfg.elicit = "form"
			cfg.onElicit = func(e elicitation) string { rec.add(e); return approve(t, h.op, e) }
			c := startClient(t, h.serverCmd(nil), cfg)
			res, err := c.Call(testContext(t), "ping", nil, nil)
			if err != nil || res.Text != "pong" {
				t.Fatalf("ping = %+v, %v", res, err)
			}
			got := rec.all()
			if len(got) != 1 {
				t.Fatalf("%d elicitations, want 1", len(got))
			}
			e := got[0]
			if e.Mode == "url" || e.URL != "" || e.Schema == nil {
				t.Errorf("elicitation %+v, want a form (no url, a schema)", e)
			}
			if !userCodeRE.MatchString(e.Message) || !strings.Contains(e.Message, h.op.Issuer+"/device") {
				t.Errorf("form message %q lacks the code or the verification URI", e.Message)
			}
		})
	}
}

// TestAccessDenied: the user denies the login at the authorization server.
func TestAccessDenied(t *testing.T) {
	h := newHarness(t, zitadelop.Options{})
	cfg := clientConfig{lib: "mcp-go", version: v20260728, elicit: "url", onElicit: func(e elicitation) string {
		if err := h.op.DenyDevice(context.Background(), userCodeRE.FindString(e.Message)); err != nil {
			t.Errorf("deny: %v", err)
		}
		return "accept"
	}}
	c := startClient(t, h.serverCmd(nil), cfg)
	res, err := c.Call(testContext(t), "ping", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(res.Text, "denied") || strings.Contains(res.Text, "pong") {
		t.Fatalf("ping = %+v, want a denied error", res)
	}
}

// TestDeviceCodeExpiry: the code expires before anyone approves it.
func TestDeviceCodeExpiry(t *testing.T) {
	h := newHarness(t, zitadelop.Options{DeviceLifetime: 2 * time.Second})
	cfg := clientConfig{lib: "go-sdk", version: v20251125, elicit: "url", onElicit: func(elicitation) string { return "accept" }}
	c := startClient(t, h.serverCmd(nil), cfg)
	res, err := c.Call(testContext(t), "ping", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(res.Text, "expired") {
		t.Fatalf("ping = %+v, want an expiry error", res)
	}
}

// TestProgress: a call waiting for the login gets notifications/progress on
// its progressToken; a call without one gets none.
func TestProgress(t *testing.T) {
	for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "mcp-go", version: v20260728}, {lib: "go-sdk", version: v20251125}} {
		for _, withToken := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/%s/token=%v", cfg.lib, cfg.version, withToken), func(t *testing.T) {
				t.Parallel()
				cfg := cfg // the two subtests of one client run in parallel
				h := newHarness(t, zitadelop.Options{})
				var c testClient
				cfg.elicit = "url"
				cfg.onElicit = func(e elicitation) string {
					// Approve only once the call has waited a while: after
					// its first progress notification, or after three polls.
					go func() {
						waitFor(t, func() bool {
							if withToken {
								return slices.ContainsFunc(c.Events(), func(s string) bool { return strings.HasPrefix(s, "progress:") })
							}
							return h.op.Requests(h.op.TokenPath()) >= 3
						}, func() string { return "progress or polls" })
						approve(t, h.op, e)
					}()
					return "accept"
				}
				c = startClient(t, h.serverCmd(nil), cfg)
				var token any
				if withToken {
					token = "progress-1"
				}
				res, err := c.Call(testContext(t), "ping", nil, token)
				if err != nil || res.Text != "pong" {
					t.Fatalf("ping = %+v, %v", res, err)
				}
				var progress []string
				for _, e := range c.Events() {
					if strings.HasPrefix(e, "progress:") {
						progress = append(progress, e)
					}
				}
				if withToken && (len(progress) == 0 || slices.ContainsFunc(progress, func(s string) bool { return s != "progress:progress-1" })) {
					t.Errorf("progress notifications %v, want some, all for progress-1", progress)
				}
				if !withToken && len(progress) != 0 {
					t.Errorf("progress notifications %v without a progressToken", progress)
				}
			})
		}
	}
}
