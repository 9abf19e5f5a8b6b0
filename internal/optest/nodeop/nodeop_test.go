package nodeop

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func getJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", u, resp.StatusCode, body)
	}
	m := map[string]any{}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("GET %s: %v: %s", u, err, body)
	}
	return m
}

func postForm(t *testing.T, u string, vals url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, vals)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := map[string]any{}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("POST %s: HTTP %d: %v: %s", u, resp.StatusCode, err, body)
	}
	return resp.StatusCode, m
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

type deviceEndpoints struct{ device, token string }

func discoverDevice(t *testing.T, op *OP) deviceEndpoints {
	t.Helper()
	meta := getJSON(t, op.Issuer+"/.well-known/openid-configuration")
	if got := str(meta, "issuer"); got != op.Issuer {
		t.Fatalf("issuer = %q, want %q", got, op.Issuer)
	}
	ep := deviceEndpoints{device: str(meta, "device_authorization_endpoint"), token: str(meta, "token_endpoint")}
	if ep.device != op.Issuer+"/device/auth" || ep.token != op.Issuer+"/token" {
		t.Fatalf("endpoints = %+v", ep)
	}
	return ep
}

func deviceAuthorize(t *testing.T, op *OP, ep deviceEndpoints) map[string]any {
	t.Helper()
	status, da := postForm(t, ep.device, url.Values{"client_id": {op.ClientID}, "scope": {"openid offline_access"}})
	if status != http.StatusOK || str(da, "device_code") == "" || str(da, "user_code") == "" {
		t.Fatalf("device authorization: HTTP %d %v", status, da)
	}
	return da
}

func pollToken(t *testing.T, op *OP, ep deviceEndpoints, deviceCode string) (int, map[string]any) {
	t.Helper()
	return postForm(t, ep.token, url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {deviceCode},
		"client_id":   {op.ClientID},
	})
}

func refresh(t *testing.T, op *OP, ep deviceEndpoints, rt string) (int, map[string]any) {
	t.Helper()
	return postForm(t, ep.token, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {rt},
		"client_id":     {op.ClientID},
	})
}

func wantOAuthError(t *testing.T, what string, status int, body map[string]any, code string) {
	t.Helper()
	if status != http.StatusBadRequest || str(body, "error") != code {
		t.Fatalf("%s: HTTP %d %v, want 400 %s", what, status, body, code)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestDeviceFlow(t *testing.T) {
	op := Start(t, Options{AccessTokenTTL: 2 * time.Minute})
	if op.ClientID != "mcpauth-test" || op.BaseURL != op.Issuer || !strings.HasPrefix(op.Issuer, "http://127.0.0.1:") {
		t.Fatalf("OP = %+v", op)
	}
	meta := getJSON(t, op.Issuer+"/.well-known/oauth-authorization-server")
	if !slices.Contains(anyStrings(meta["code_challenge_methods_supported"]), "S256") {
		t.Errorf("code_challenge_methods_supported = %v", meta["code_challenge_methods_supported"])
	}
	if meta["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("authorization_response_iss_parameter_supported = %v", meta["authorization_response_iss_parameter_supported"])
	}
	ep := discoverDevice(t, op)
	ctx := testCtx(t)
	tokenPosts := 0

	da := deviceAuthorize(t, op, ep)
	if str(da, "verification_uri") != op.Issuer+"/device" || !strings.Contains(str(da, "verification_uri_complete"), "user_code=") {
		t.Errorf("verification URIs: %v", da)
	}
	if da["expires_in"] != float64(600) {
		t.Errorf("expires_in = %v, want 600", da["expires_in"])
	}
	if _, ok := da["interval"]; ok {
		t.Errorf("device response has interval (%v): update the package doc", da["interval"])
	}

	status, body := pollToken(t, op, ep, str(da, "device_code"))
	tokenPosts++
	wantOAuthError(t, "poll before approval", status, body, "authorization_pending")

	if err := op.ApproveDevice(ctx, str(da, "user_code")); err != nil {
		t.Fatal(err)
	}
	status, tok := pollToken(t, op, ep, str(da, "device_code"))
	tokenPosts++
	if status != http.StatusOK || str(tok, "access_token") == "" || str(tok, "refresh_token") == "" {
		t.Fatalf("poll after approval: HTTP %d %v", status, tok)
	}
	if tok["expires_in"] != float64(120) || !strings.EqualFold(str(tok, "token_type"), "Bearer") {
		t.Errorf("token response: %v (want expires_in 120, Bearer)", tok)
	}
	if str(tok, "id_token") == "" {
		t.Errorf("no id_token for scope openid: %v", tok)
	}

	rt1 := str(tok, "refresh_token")
	status, tok2 := refresh(t, op, ep, rt1)
	tokenPosts++
	if status != http.StatusOK || str(tok2, "access_token") == "" || str(tok2, "refresh_token") == "" {
		t.Fatalf("refresh: HTTP %d %v", status, tok2)
	}
	rt2 := str(tok2, "refresh_token")
	if rt2 == rt1 {
		t.Fatalf("refresh token was not rotated")
	}
	if str(tok2, "access_token") == str(tok, "access_token") {
		t.Fatalf("refresh returned the same access token")
	}
	status, body = refresh(t, op, ep, rt1)
	tokenPosts++
	wantOAuthError(t, "reusing the rotated refresh token", status, body, "invalid_grant")
	// Reuse detection revoked the grant: the newest refresh token is dead too.
	status, body = refresh(t, op, ep, rt2)
	tokenPosts++
	wantOAuthError(t, "refresh after reuse detection", status, body, "invalid_grant")

	// A code nobody issued is refused by the form walk.
	if err := op.ApproveDevice(ctx, "BCDF-GHJK"); err == nil || !strings.Contains(err.Error(), "submit user code") {
		t.Errorf("ApproveDevice(unknown code) = %v, want an error at the user code step", err)
	}

	// Deny.
	da = deviceAuthorize(t, op, ep)
	if err := op.DenyDevice(ctx, str(da, "user_code")); err != nil {
		t.Fatal(err)
	}
	status, body = pollToken(t, op, ep, str(da, "device_code"))
	tokenPosts++
	wantOAuthError(t, "poll after deny", status, body, "access_denied")
	// Once denied, the code cannot be approved any more.
	if err := op.ApproveDevice(ctx, str(da, "user_code")); err == nil {
		t.Errorf("ApproveDevice after DenyDevice succeeded")
	}

	if n, err := op.Requests("/token"); err != nil || n != tokenPosts {
		t.Errorf("Requests(/token) = %d, %v; want %d", n, err, tokenPosts)
	}
	if n, err := op.Requests("/device/auth"); err != nil || n != 2 {
		t.Errorf("Requests(/device/auth) = %d, %v; want 2", n, err)
	}
}

func TestDeviceCodeExpires(t *testing.T) {
	op := Start(t, Options{DeviceCodeTTL: 2 * time.Second})
	ep := discoverDevice(t, op)
	da := deviceAuthorize(t, op, ep)
	if da["expires_in"] != float64(2) {
		t.Fatalf("expires_in = %v, want 2", da["expires_in"])
	}
	time.Sleep(3 * time.Second)
	status, body := pollToken(t, op, ep, str(da, "device_code"))
	wantOAuthError(t, "poll after expiry", status, body, "expired_token")
	if err := op.ApproveDevice(testCtx(t), str(da, "user_code")); err == nil {
		t.Errorf("ApproveDevice of an expired code succeeded")
	}
}

type callback struct {
	ln  net.Listener
	url string
	got chan url.Values
}

func listenCallback(t *testing.T) *callback {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cb := &callback{ln: ln, url: fmt.Sprintf("http://%s/callback", ln.Addr()), got: make(chan url.Values, 10)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		_ = r.ParseForm()
		cb.got <- r.Form
		fmt.Fprintln(w, "You can close this window.")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return cb
}

func (cb *callback) next(t *testing.T) url.Values {
	t.Helper()
	select {
	case q := <-cb.got:
		return q
	default:
		t.Fatal("the callback was not requested")
		return nil
	}
}

func randomState() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestAuthCodePKCEWithIssuerPath(t *testing.T) {
	op := Start(t, Options{IssuerPath: "/tenant-a"})
	if op.Issuer != op.BaseURL+"/tenant-a" {
		t.Fatalf("Issuer %q, BaseURL %q", op.Issuer, op.BaseURL)
	}
	// RFC 8414 path insertion at the server root.
	meta := getJSON(t, op.BaseURL+"/.well-known/oauth-authorization-server/tenant-a")
	if str(meta, "issuer") != op.Issuer {
		t.Fatalf("path-inserted metadata issuer = %q, want %q", str(meta, "issuer"), op.Issuer)
	}
	// The appended OIDC form and the OIDC path insertion give the same issuer.
	for _, u := range []string{op.Issuer + "/.well-known/openid-configuration", op.BaseURL + "/.well-known/openid-configuration/tenant-a"} {
		if m := getJSON(t, u); str(m, "issuer") != op.Issuer || str(m, "token_endpoint") != str(meta, "token_endpoint") {
			t.Errorf("%s: issuer %q token_endpoint %q", u, str(m, "issuer"), str(m, "token_endpoint"))
		}
	}
	// Not at the root without the path.
	if resp, err := http.Get(op.BaseURL + "/.well-known/oauth-authorization-server"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("root metadata without path: %v %v, want 404", resp.Status, err)
	} else {
		resp.Body.Close()
	}

	cb := listenCallback(t)
	cfg := &oauth2.Config{
		ClientID: op.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:   str(meta, "authorization_endpoint"),
			TokenURL:  str(meta, "token_endpoint"),
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: cb.url,
		Scopes:      []string{"openid", "offline_access"},
	}
	ctx := testCtx(t)

	verifier := oauth2.GenerateVerifier()
	state := randomState()
	if err := op.Browse(ctx, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))); err != nil {
		t.Fatal(err)
	}
	q := cb.next(t)
	if q.Get("state") != state || q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("callback query %v", q)
	}
	if q.Get("iss") != op.Issuer {
		t.Errorf("callback iss = %q, want %q (RFC 9207)", q.Get("iss"), op.Issuer)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Expiry.IsZero() {
		t.Fatalf("token %+v", tok)
	}

	// A wrong verifier is refused.
	verifier2 := oauth2.GenerateVerifier()
	if err := op.Browse(ctx, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier2))); err != nil {
		t.Fatal(err)
	}
	q = cb.next(t)
	_, err = cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("exchange with a wrong verifier: %v, want invalid_grant", err)
	}

	// PKCE is required.
	if err := op.Browse(ctx, cfg.AuthCodeURL(state)); err != nil {
		t.Fatal(err)
	}
	if q = cb.next(t); q.Get("error") != "invalid_request" || q.Get("code") != "" {
		t.Errorf("no PKCE: callback %v, want error=invalid_request", q)
	}

	// response_mode=form_post: the browser POSTs the callback.
	if err := op.Browse(ctx, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_mode", "form_post"))); err != nil {
		t.Fatal(err)
	}
	if q = cb.next(t); q.Get("code") == "" || q.Get("state") != state || q.Get("iss") != op.Issuer {
		t.Errorf("form_post: callback %v", q)
	}

	// The user cancels.
	if err := op.BrowseDeny(ctx, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))); err != nil {
		t.Fatal(err)
	}
	if q = cb.next(t); q.Get("error") != "access_denied" || q.Get("state") != state {
		t.Errorf("deny: callback %v, want error=access_denied", q)
	}

	// RFC 8707 resource: a JWT access token for that audience.
	resource := "http://127.0.0.1:9/mcp"
	if err := op.Browse(ctx, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", resource))); err != nil {
		t.Fatal(err)
	}
	q = cb.next(t)
	tok, err = cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		t.Fatal(err)
	}
	if parts := strings.Split(tok.AccessToken, "."); len(parts) != 3 {
		t.Errorf("resource access token is not a JWT: %q", tok.AccessToken)
	} else if payload, err := base64.RawURLEncoding.DecodeString(parts[1]); err != nil || !strings.Contains(string(payload), `"aud":"`+resource+`"`) {
		t.Errorf("resource access token payload %s (%v), want aud %s", payload, err, resource)
	}

	if n, err := op.Requests("/.well-known/oauth-authorization-server/tenant-a"); err != nil || n != 1 {
		t.Errorf("Requests(path-inserted metadata) = %d, %v; want 1", n, err)
	}
	if n, err := op.Requests("/tenant-a/token"); err != nil || n != 3 {
		t.Errorf("Requests(/tenant-a/token) = %d, %v; want 3", n, err)
	}
	if n, err := op.Requests("/tenant-a/auth"); err != nil || n != 6 {
		t.Errorf("Requests(/tenant-a/auth) = %d, %v; want 6", n, err)
	}
}

func TestRequestCounts(t *testing.T) {
	op := Start(t, Options{})
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/openid-configuration", "/jwks", "/nope?x=1"} {
		resp, err := http.Get(op.BaseURL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	ep := deviceEndpoints{device: op.Issuer + "/device/auth", token: op.Issuer + "/token"}
	deviceAuthorize(t, op, ep)

	got, err := op.RequestCounts()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"/.well-known/openid-configuration": 2,
		"/jwks":                             1,
		"/nope":                             1,
		"/device/auth":                      1,
	}
	if !maps.Equal(got, want) {
		t.Fatalf("RequestCounts = %v, want %v", got, want)
	}
	if n, err := op.Requests("/token"); err != nil || n != 0 {
		t.Errorf("Requests(/token) = %d, %v; want 0", n, err)
	}
}

func anyStrings(v any) []string {
	var out []string
	if a, ok := v.([]any); ok {
		for _, e := range a {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func TestRefreshTokenPolicy(t *testing.T) {
	approve := func(t *testing.T, op *OP, scope string) map[string]any {
		t.Helper()
		ep := discoverDevice(t, op)
		status, da := postForm(t, ep.device, url.Values{"client_id": {op.ClientID}, "scope": {scope}})
		if status != http.StatusOK {
			t.Fatalf("device authorization: HTTP %d %v", status, da)
		}
		if err := op.ApproveDevice(testCtx(t), str(da, "user_code")); err != nil {
			t.Fatal(err)
		}
		status, tok := pollToken(t, op, ep, str(da, "device_code"))
		if status != http.StatusOK || str(tok, "access_token") == "" {
			t.Fatalf("token: HTTP %d %v", status, tok)
		}
		return tok
	}
	t.Run("default without offline_access", func(t *testing.T) {
		op := Start(t, Options{})
		if tok := approve(t, op, "openid"); str(tok, "refresh_token") == "" {
			t.Errorf("no refresh token: %v", tok)
		}
	})
	t.Run("NoRefreshToken", func(t *testing.T) {
		op := Start(t, Options{NoRefreshToken: true})
		if tok := approve(t, op, "openid offline_access"); str(tok, "refresh_token") != "" {
			t.Errorf("refresh token issued: %v", tok)
		}
	})
}
