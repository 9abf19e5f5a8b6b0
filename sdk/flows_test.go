package sdk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/devidp"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/sdk"
)

// TestStaleFlow drives the 2026-07-28 multi round trip by hand: an answer
// naming a login that was replaced, or one that never existed, is refused.
func TestStaleFlow(t *testing.T) {
	h := newHarness(t, zitadelop.Options{})
	caps := map[string]any{"elicitation": map[string]any{"form": map[string]any{}, "url": map[string]any{}}}
	r := startRaw(t, h.serverCmd(nil), true, caps)
	ctx := testContext(t)

	call := func(params map[string]any) map[string]any {
		params["name"] = "ping"
		return r.Response(ctx, r.Send("tools/call", params))
	}
	// inputRequired returns the requestState and the user code of an
	// input_required result.
	inputRequired := func(res map[string]any) (state, code string) {
		t.Helper()
		if res["resultType"] != "input_required" {
			t.Fatalf("result %v, want input_required", res)
		}
		reqs := res["inputRequests"].(map[string]any)
		if len(reqs) != 1 {
			t.Fatalf("inputRequests %v, want one", reqs)
		}
		for _, v := range reqs {
			params := v.(map[string]any)["params"].(map[string]any)
			code = userCodeRE.FindString(params["message"].(string))
		}
		return res["requestState"].(string), code
	}
	answer := func(state, action string) map[string]any {
		return call(map[string]any{"requestState": state, "inputResponses": map[string]any{"mcpauth_login": map[string]any{"action": action}}})
	}

	s1, _ := inputRequired(call(map[string]any{}))
	if res := answer(s1, "decline"); res["isError"] != true || !strings.Contains(resultText(res), "declined") {
		t.Fatalf("decline = %v", res)
	}
	s2, code2 := inputRequired(call(map[string]any{}))
	if s2 == s1 {
		t.Fatal("a new login reused the requestState of the declined one")
	}
	for _, state := range []string{s1, "forged-state", ""} {
		res := answer(state, "accept")
		if res["isError"] != true || !strings.Contains(resultText(res), "no longer current") {
			t.Errorf("accept with state %q = %v, want refused as stale", state, res)
		}
	}
	if err := h.op.ApproveDevice(ctx, code2); err != nil {
		t.Fatal(err)
	}
	if res := answer(s2, "accept"); resultText(res) != "pong" {
		t.Fatalf("accept with the current state = %v, want pong", res)
	}
	if n := h.op.Requests(h.op.DevicePath()); n != 2 {
		t.Errorf("%d device authorizations, want 2", n)
	}
}

// cimdDiscovery serves an authorization server's OpenID configuration
// under its own issuer URL with client_id_metadata_document_supported
// added, its endpoints still pointing at the real server: an authorization
// server that supports Client ID Metadata Documents, backed by devidp.
func cimdDiscovery(t *testing.T, realIssuer string) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		resp, err := http.Get(realIssuer + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		doc["issuer"] = srv.URL
		doc["client_id_metadata_document_supported"] = true
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv
}

const cimdURL = "https://host.example/oauth/client-metadata.json"

// TestCIMDUsed: where the authorization server supports CIMD, the host's
// CIMD URL (from the capability or the environment) is the client_id. The
// server knows only that client, so the login succeeds only if it was used.
func TestCIMDUsed(t *testing.T) {
	for _, via := range []string{"capability", "env"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			idp, err := devidp.New(devidp.Options{ClientID: cimdURL})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { idp.Close() })
			as := cimdDiscovery(t, idp.Issuer)
			h := newHarness(t, zitadelop.Options{})
			args := []string{"-issuer", as.URL, "-client-id", "configured-client", "-scopes", "offline_access"}
			cfg := clientConfig{lib: "mcp-go", version: v20260728, elicit: "url", onElicit: func(e elicitation) string {
				if err := idp.ApproveDevice(context.Background(), userCodeRE.FindString(e.Message)); err != nil {
					t.Errorf("approve: %v", err)
				}
				return "accept"
			}}
			var env []string
			if via == "capability" {
				cfg.extensions = map[string]any{sdk.CapabilityClientIDMetadataDocument: map[string]any{"clientId": cimdURL}}
				env = append(env, sdk.EnvClientIDMetadataDocument+"=https://other.example/ignored.json")
			} else {
				cfg.version = v20251125
				env = append(env, sdk.EnvClientIDMetadataDocument+"="+cimdURL)
			}
			sp := h.serverCmd(args, env...)
			c := startClient(t, sp, cfg)
			res, err := c.Call(testContext(t), "ping", nil, nil)
			if err != nil || res.Text != "pong" {
				t.Fatalf("ping = %+v, %v", res, err)
			}
			if n := idp.Requests(idp.DevicePath()); n != 1 {
				t.Errorf("%d device authorizations, want 1", n)
			}
			if !strings.Contains(sp.stderr.String(), "client_id="+cimdURL) {
				t.Errorf("stderr does not say the CIMD URL is used:\n%s", sp.stderr.String())
			}
		})
	}
}

// TestCIMDRefused: a CIMD URL that is not https with a path, or an
// authorization server that does not advertise support, leaves the
// configured client_id in use, with a log line saying why.
func TestCIMDRefused(t *testing.T) {
	for _, tc := range []struct{ url, reason string }{
		{"http://host.example/client.json", "not an https URL"},
		{"https://host.example", "has no path"},
		{"https://host.example/", "has no path"},
		{cimdURL, "does not advertise client_id_metadata_document_supported"},
	} {
		t.Run(tc.reason+"/"+tc.url, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, zitadelop.Options{})
			sp := h.serverCmd(nil, sdk.EnvClientIDMetadataDocument+"="+tc.url)
			c := startClient(t, sp, clientConfig{lib: "go-sdk", version: v20251125, elicit: "url",
				onElicit: func(e elicitation) string { return approve(t, h.op, e) }})
			res, err := c.Call(testContext(t), "ping", nil, nil)
			if err != nil || res.Text != "pong" {
				t.Fatalf("ping = %+v, %v", res, err)
			}
			logs := sp.stderr.String()
			if !strings.Contains(logs, "client ID metadata document ignored") || !strings.Contains(logs, tc.reason) {
				t.Errorf("stderr lacks the reason %q:\n%s", tc.reason, logs)
			}
		})
	}
}

// TestTwoProviders: two authorization servers, each with its own login,
// token and tools.
func TestTwoProviders(t *testing.T) {
	for _, cfg := range []clientConfig{{lib: "mcp-go", version: v20251125}, {lib: "go-sdk", version: v20260728}} {
		t.Run(cfg.lib+"/"+cfg.version, func(t *testing.T) {
			t.Parallel()
			a := newHarness(t, zitadelop.Options{})
			b := zitadelop.Start(t, zitadelop.Options{})
			apiB := newTestAPI(t, b)
			var rec recorder
			cfg.elicit = "url"
			cfg.onElicit = func(e elicitation) string {
				rec.add(e)
				if hostOf(t, e.URL) == hostOf(t, b.Issuer) {
					return approve(t, b, e)
				}
				return approve(t, a.op, e)
			}
			spec := func(name, iss, client, api string) string {
				return "name=" + name + ";issuer=" + iss + ";client_id=" + client + ";scopes=openid offline_access;api=" + api
			}
			sp := a.serverCmd(nil)
			sp.cmd.Args = []string{serverBin, "-provider", spec("alpha", a.op.Issuer, a.op.ClientID, a.api.URL), "-provider", spec("beta", b.Issuer, b.ClientID, apiB.URL)}
			c := startClient(t, sp, cfg)
			ctx := testContext(t)
			tools, err := c.Tools(ctx)
			if err != nil || !slices.Contains(tools, "alpha_whoami") || !slices.Contains(tools, "beta_call_api") {
				t.Fatalf("tools = %v, %v", tools, err)
			}
			for _, call := range []string{"alpha_whoami", "beta_whoami", "alpha_whoami", "beta_whoami"} {
				res, err := c.Call(ctx, call, nil, nil)
				if err != nil || res.Text != "subject: test-user" {
					t.Fatalf("%s = %+v, %v", call, res, err)
				}
			}
			for _, call := range []string{"alpha_call_api", "beta_call_api"} {
				if res, err := c.Call(ctx, call, map[string]any{"path": "read"}, nil); err != nil || res.IsError {
					t.Fatalf("%s = %+v, %v", call, res, err)
				}
			}
			got := rec.all()
			if len(got) != 2 || hostOf(t, got[0].URL) != hostOf(t, a.op.Issuer) || hostOf(t, got[1].URL) != hostOf(t, b.Issuer) {
				t.Errorf("elicitations %+v, want one per provider, alpha first", got)
			}
			if na, nb := a.op.Requests(a.op.DevicePath()), b.Requests(b.DevicePath()); na != 1 || nb != 1 {
				t.Errorf("device authorizations alpha %d beta %d, want 1 each", na, nb)
			}
			ta, tb := a.api.Bearers(), apiB.Bearers()
			if len(ta) != 1 || len(tb) != 1 || ta[0] == tb[0] {
				t.Errorf("each API must see its own single token: alpha %d, beta %d tokens", len(ta), len(tb))
			}
		})
	}
}
