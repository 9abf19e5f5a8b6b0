package sdk_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// TestExplicitLogin: only auth_login, auth_status (and unprotected tools)
// are listed until login; auth_login's result arrives after
// notifications/tools/list_changed, the protected tools are then listed and
// work, and auth_logout takes them away again.
func TestExplicitLogin(t *testing.T) {
	for _, cfg := range goClients {
		t.Run(cfg.lib+"/"+cfg.version, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			cfg.elicit = "url"
			cfg.onElicit = func(e elicitation) string { return approve(t, h.op, e) }
			c := startClient(t, h.serverCmd([]string{"-mode", "explicit"}), cfg)
			ctx := testContext(t)
			before := []string{"auth_login", "auth_status", "hello"}
			if got, err := c.Tools(ctx); err != nil || !slices.Equal(got, before) {
				t.Fatalf("tools before login = %v, %v; want %v", got, err, before)
			}
			res, err := c.Call(ctx, "auth_login", nil, nil)
			c.Mark("auth_login result")
			if err != nil || res.IsError || !strings.Contains(res.Text, "logged in as "+h.op.Username) {
				t.Fatalf("auth_login = %+v, %v", res, err)
			}
			ev := c.Events()
			changed, result := slices.Index(ev, "list_changed"), slices.Index(ev, "auth_login result")
			if cfg.lib == "go-sdk" {
				// go-sdk's client debounces list_changed and runs its
				// handler on its own goroutine, so the handler may run
				// after Call returned although the notification came
				// first on the wire (TestExplicitLoginWireOrder checks the
				// wire itself): here only its arrival is observable. Wait
				// for it, bounded.
				for range 200 {
					if ev = c.Events(); slices.Contains(ev, "list_changed") {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				changed, result = slices.Index(ev, "list_changed"), len(ev)
			}
			if changed < 0 || changed > result {
				t.Fatalf("events %v: want list_changed before the auth_login result", ev)
			}
			after := []string{"auth_login", "auth_logout", "auth_status", "corp_call_api", "corp_whoami", "hello", "ping"}
			if got, err := c.Tools(ctx); err != nil || !slices.Equal(got, after) {
				t.Fatalf("tools after login = %v, %v; want %v", got, err, after)
			}
			if res, err := c.Call(ctx, "corp_whoami", nil, nil); err != nil || res.Text != "subject: "+h.op.Username {
				t.Fatalf("corp_whoami = %+v, %v", res, err)
			}
			status, err := c.Call(ctx, "auth_status", nil, nil)
			if err != nil || !strings.Contains(status.Text, "corp: logged in as "+h.op.Username) {
				t.Fatalf("auth_status = %+v, %v", status, err)
			}
			if res, err := c.Call(ctx, "auth_logout", nil, nil); err != nil || res.IsError {
				t.Fatalf("auth_logout = %+v, %v", res, err)
			}
			if got, err := c.Tools(ctx); err != nil || !slices.Equal(got, before) {
				t.Fatalf("tools after logout = %v, %v; want %v", got, err, before)
			}
		})
	}
}

// TestExplicitLoginWireOrder checks the order on the wire itself: the
// notifications/tools/list_changed and notifications/elicitation/complete
// lines precede the auth_login response line on the server's stdout.
func TestExplicitLoginWireOrder(t *testing.T) {
	h := newHarness(t, zitadelop.Options{})
	// profile is a configured scope, so auth_login may ask for it.
	r := startRaw(t, h.serverCmd([]string{"-mode", "explicit", "-scopes", "openid offline_access profile"}), false, map[string]any{"elicitation": map[string]any{"form": map[string]any{}, "url": map[string]any{}}})
	ctx := testContext(t)
	id := r.Send("tools/call", map[string]any{"name": "auth_login", "arguments": map[string]any{"scopes": []string{"profile"}}})
	var order []string
	for {
		m := r.Next(ctx)
		switch {
		case m["method"] == "elicitation/create":
			params := m["params"].(map[string]any)
			approve(t, h.op, elicitation{Mode: "url", Message: params["message"].(string), URL: params["url"].(string)})
			r.Reply(m["id"], map[string]any{"action": "accept"})
		case m["method"] == "notifications/tools/list_changed":
			order = append(order, "list_changed")
		case m["method"] == "notifications/elicitation/complete":
			order = append(order, "complete")
		case m["method"] == nil && m["id"] != nil:
			order = append(order, "response")
			res := m["result"].(map[string]any)
			if text := resultText(res); !strings.Contains(text, "logged in") || !strings.Contains(text, "profile") {
				t.Errorf("auth_login result %q, want logged in with the profile scope", text)
			}
			if got := m["id"]; got != float64(id) {
				t.Fatalf("response to %v, want %d", got, id)
			}
			// Both notifications precede the result; their own order is free.
			if len(order) != 3 || order[2] != "response" || !slices.Contains(order, "list_changed") || !slices.Contains(order, "complete") {
				t.Fatalf("wire order %v, want list_changed and elicitation/complete, then the response", order)
			}
			return
		}
	}
}

// TestExplicitLoginProviderArgument: auth_login with an unknown provider is
// a tool error and starts nothing.
func TestExplicitLoginProviderArgument(t *testing.T) {
	h := newHarness(t, zitadelop.Options{})
	c := startClient(t, h.serverCmd([]string{"-mode", "explicit"}), clientConfig{lib: "mcp-go", version: v20251125, elicit: "url",
		onElicit: func(elicitation) string { t.Error("unexpected elicitation"); return "cancel" }})
	res, err := c.Call(context.Background(), "auth_login", map[string]any{"provider": "nope"}, nil)
	if err == nil && !res.IsError {
		t.Fatalf("auth_login(nope) = %+v, want an error", res)
	}
	// The model picks the scopes argument: one no tool declares is refused
	// (a prompt injection must not widen the grant).
	res, err = c.Call(context.Background(), "auth_login", map[string]any{"scopes": []string{"admin:org"}}, nil)
	if err != nil || !res.IsError || !strings.Contains(res.Text, `scope "admin:org" is not one this server's tools need`) {
		t.Fatalf("auth_login(scopes: admin:org) = %+v, %v; want a refusal", res, err)
	}
	if n := h.op.Requests(h.op.DevicePath()); n != 0 {
		t.Errorf("%d device authorizations, want 0", n)
	}
}
