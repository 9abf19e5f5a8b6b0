package gitlabapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/gitlabapi"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

func TestMain(m *testing.M) {
	// zitadel/oidc logs every OAuth error answer through slog.Default.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	m.Run()
}

func get(t *testing.T, url, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOnlyTokensOfTheOP(t *testing.T) {
	op := zitadelop.Start(t, zitadelop.Options{})
	api := gitlabapi.Start(t, op.Issuer+"/userinfo")
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

	code, body := get(t, api.APIURL()+"/projects?search=infra&page=1&per_page=20", tok.AccessToken)
	var projects []map[string]any
	if code != http.StatusOK || json.Unmarshal([]byte(body), &projects) != nil || len(projects) != 1 {
		t.Fatalf("search with the OP's token: %d %s", code, body)
	}
	if got := projects[0]["path_with_namespace"]; got != op.Username+"/infra" {
		t.Errorf("path_with_namespace %v, want the token's subject %s/infra", got, op.Username)
	}
	for _, tc := range []struct{ name, tok string }{
		{"no token", ""},
		{"not the OP's", "glpat-0123456789abcdefghij"},
		{"the OP's, altered", tok.AccessToken[:len(tok.AccessToken)-2] + "xx"},
	} {
		code, body := get(t, api.APIURL()+"/projects?search=infra", tc.tok)
		if code != http.StatusUnauthorized || body != `{"message":"401 Unauthorized"}` {
			t.Errorf("%s: %d %s, want 401 {\"message\":\"401 Unauthorized\"}", tc.name, code, body)
		}
	}
	if code, body := get(t, api.APIURL()+"/user", tok.AccessToken); code != http.StatusOK || !strings.Contains(body, `"username": "`+op.Username+`"`) {
		t.Errorf("/user: %d %s", code, body)
	}
	if api.Accepted() != 2 || api.Refused() != 3 {
		t.Errorf("accepted %d, refused %d; want 2 and 3", api.Accepted(), api.Refused())
	}
}
