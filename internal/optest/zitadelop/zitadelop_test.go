package zitadelop

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// tokenReply is a token endpoint answer, success or error.
type tokenReply struct {
	status           int
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	IDToken          string `json:"id_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// postForm POSTs a form to the OP and decodes the JSON answer.
func postForm(t *testing.T, o *OP, path string, form url.Values) tokenReply {
	t.Helper()
	resp, err := http.PostForm(o.Issuer+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r tokenReply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("POST %s: status %d, body %q: %v", path, resp.StatusCode, body, err)
	}
	r.status = resp.StatusCode
	return r
}

// pollOnce is one RFC 8628 device access token request.
func pollOnce(t *testing.T, o *OP, deviceCode string) tokenReply {
	t.Helper()
	return postForm(t, o, o.TokenPath(), url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {deviceCode},
		"client_id":   {o.ClientID},
	})
}

func wantError(t *testing.T, r tokenReply, want string) {
	t.Helper()
	if r.Error != want || r.status != http.StatusBadRequest || r.AccessToken != "" {
		t.Fatalf("got status %d error %q (%q) access_token %q, want 400 %q", r.status, r.Error, r.ErrorDescription, r.AccessToken, want)
	}
}

func wantToken(t *testing.T, r tokenReply) {
	t.Helper()
	if r.status != http.StatusOK || r.AccessToken == "" || r.Error != "" {
		t.Fatalf("got status %d error %q (%q) access_token %q, want 200 with an access token", r.status, r.Error, r.ErrorDescription, r.AccessToken)
	}
	if !strings.EqualFold(r.TokenType, "bearer") {
		t.Errorf("token_type %q, want Bearer", r.TokenType)
	}
}

func deviceAuth(t *testing.T, o *OP, scopes ...string) *oauth2.DeviceAuthResponse {
	t.Helper()
	da, err := o.OAuth2Config("", scopes...).DeviceAuth(context.Background())
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	return da
}

type discovery struct {
	Issuer                      string   `json:"issuer"`
	AuthorizationEndpoint       string   `json:"authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	UserinfoEndpoint            string   `json:"userinfo_endpoint"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	GrantTypesSupported         []string `json:"grant_types_supported"`
	CodeChallengeMethods        []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethods    []string `json:"token_endpoint_auth_methods_supported"`
}

func discover(t *testing.T, o *OP) discovery {
	t.Helper()
	resp, err := http.Get(o.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: status %d", resp.StatusCode)
	}
	var d discovery
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// userinfo calls the userinfo endpoint and returns the status and claims.
func userinfo(t *testing.T, o *OP, accessToken string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, discover(t, o).UserinfoEndpoint, nil)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var claims map[string]any
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &claims)
	return resp.StatusCode, claims
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{})
	if !strings.HasPrefix(o.Issuer, "http://127.0.0.1:") {
		t.Errorf("Issuer %q, want http://127.0.0.1:PORT", o.Issuer)
	}
	d := discover(t, o)
	if d.Issuer != o.Issuer {
		t.Errorf("discovery issuer %q, want %q", d.Issuer, o.Issuer)
	}
	if d.TokenEndpoint != o.Issuer+o.TokenPath() || o.TokenPath() != "/oauth/token" {
		t.Errorf("token_endpoint %q, TokenPath %q", d.TokenEndpoint, o.TokenPath())
	}
	if d.DeviceAuthorizationEndpoint != o.Issuer+o.DevicePath() || o.DevicePath() != "/device_authorization" {
		t.Errorf("device_authorization_endpoint %q, DevicePath %q", d.DeviceAuthorizationEndpoint, o.DevicePath())
	}
	cfg := o.OAuth2Config("")
	if d.AuthorizationEndpoint != cfg.Endpoint.AuthURL || d.TokenEndpoint != cfg.Endpoint.TokenURL || d.DeviceAuthorizationEndpoint != cfg.Endpoint.DeviceAuthURL {
		t.Errorf("OAuth2Config endpoint %+v does not match discovery %+v", cfg.Endpoint, d)
	}
	for _, g := range []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"} {
		if !slices.Contains(d.GrantTypesSupported, g) {
			t.Errorf("grant_types_supported %v lacks %s", d.GrantTypesSupported, g)
		}
	}
	if !slices.Contains(d.CodeChallengeMethods, "S256") {
		t.Errorf("code_challenge_methods_supported %v lacks S256", d.CodeChallengeMethods)
	}
	if !slices.Contains(d.TokenEndpointAuthMethods, "none") {
		t.Errorf("token_endpoint_auth_methods_supported %v lacks none", d.TokenEndpointAuthMethods)
	}
	// zitadel serves no RFC 8414 document.
	resp, err := http.Get(o.Issuer + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("RFC 8414 metadata: status %d, want 404", resp.StatusCode)
	}
	if got := o.Requests("/.well-known/openid-configuration"); got != 1 {
		t.Errorf("Requests(discovery) = %d, want 1", got)
	}
}

func TestDeviceApprove(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{})
	ctx := context.Background()
	da := deviceAuth(t, o, "openid", "profile", "offline_access")

	if da.DeviceCode == "" || da.UserCode == "" {
		t.Fatalf("device response without codes: %+v", da)
	}
	if da.VerificationURI != o.Issuer+"/device" || da.VerificationURIComplete != o.Issuer+"/device?user_code="+da.UserCode {
		t.Errorf("verification_uri %q, verification_uri_complete %q", da.VerificationURI, da.VerificationURIComplete)
	}
	if da.Interval != 1 {
		t.Errorf("interval %d, want 1", da.Interval)
	}
	if left := time.Until(da.Expiry); left < 4*time.Minute || left > 5*time.Minute {
		t.Errorf("expires in %v, want about 5m", left)
	}

	wantError(t, pollOnce(t, o, da.DeviceCode), "authorization_pending")
	if err := o.ApproveDevice(ctx, da.UserCode); err != nil {
		t.Fatal(err)
	}
	tok := pollOnce(t, o, da.DeviceCode)
	wantToken(t, tok)
	if tok.RefreshToken == "" || tok.IDToken == "" {
		t.Errorf("refresh_token %q id_token %q: want both (scopes offline_access, openid)", tok.RefreshToken, tok.IDToken)
	}
	// The device code is single-use.
	wantError(t, pollOnce(t, o, da.DeviceCode), "access_denied")

	if got, want := o.Requests(o.DevicePath()), 1; got != want {
		t.Errorf("Requests(DevicePath) = %d, want %d", got, want)
	}
	if got, want := o.Requests(o.TokenPath()), 3; got != want {
		t.Errorf("Requests(TokenPath) = %d, want %d", got, want)
	}

	status, claims := userinfo(t, o, tok.AccessToken)
	if status != http.StatusOK || claims["sub"] != o.Username || claims["preferred_username"] != o.Username {
		t.Errorf("userinfo: status %d claims %v, want sub = preferred_username = %q", status, claims, o.Username)
	}

	// A refresh token from the device grant refreshes (needs the client ID
	// fix in deviceTokenRequest).
	ref := postForm(t, o, o.TokenPath(), url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {tok.RefreshToken},
		"client_id":     {o.ClientID},
	})
	wantToken(t, ref)

	if err := o.ApproveDevice(ctx, da.UserCode); err == nil {
		t.Error("second ApproveDevice succeeded, want an error")
	}
	if err := o.DenyDevice(ctx, da.UserCode); err == nil {
		t.Error("DenyDevice after approval succeeded, want an error")
	}
}

// TestDevicePolling runs x/oauth2's own polling loop against an approval
// that happens while it polls (and under -race checks that approving and
// polling do not race).
func TestDevicePolling(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{})
	cfg := o.OAuth2Config("", "openid")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	approved := make(chan error, 1)
	go func() {
		// Approve once the client has polled at least once.
		for o.Requests(o.TokenPath()) < 1 {
			time.Sleep(10 * time.Millisecond)
		}
		approved <- o.ApproveDevice(ctx, da.UserCode)
	}()
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-approved; err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || !tok.Valid() {
		t.Errorf("token %+v", tok)
	}
	if n := o.Requests(o.TokenPath()); n < 2 {
		t.Errorf("Requests(TokenPath) = %d, want at least 2 (pending, then success)", n)
	}
}

func TestDeviceDeny(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{})
	ctx := context.Background()
	da := deviceAuth(t, o, "openid")
	if err := o.DenyDevice(ctx, da.UserCode); err != nil {
		t.Fatal(err)
	}
	wantError(t, pollOnce(t, o, da.DeviceCode), "access_denied")
	if err := o.ApproveDevice(ctx, da.UserCode); err == nil {
		t.Error("ApproveDevice after DenyDevice succeeded, want an error")
	}
}

func TestDeviceUnknownUserCode(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{})
	ctx := context.Background()
	if err := o.ApproveDevice(ctx, "NOPE-NOPE"); err == nil {
		t.Error("ApproveDevice(unknown) succeeded")
	}
	if err := o.DenyDevice(ctx, "NOPE-NOPE"); err == nil {
		t.Error("DenyDevice(unknown) succeeded")
	}
	// An unknown device_code is answered access_denied by zitadel.
	wantError(t, pollOnce(t, o, "no-such-device-code"), "access_denied")
}

func TestDeviceExpired(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{DeviceLifetime: time.Second})
	da := deviceAuth(t, o, "openid")
	wantError(t, pollOnce(t, o, da.DeviceCode), "authorization_pending")
	time.Sleep(1100 * time.Millisecond)
	wantError(t, pollOnce(t, o, da.DeviceCode), "expired_token")
	if err := o.ApproveDevice(context.Background(), da.UserCode); err == nil {
		t.Error("ApproveDevice after expiry succeeded, want an error")
	}
}

func TestDeviceSlowDown(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{SlowDown: 2})
	da := deviceAuth(t, o, "openid")
	wantError(t, pollOnce(t, o, da.DeviceCode), "slow_down")
	wantError(t, pollOnce(t, o, da.DeviceCode), "slow_down")
	wantError(t, pollOnce(t, o, da.DeviceCode), "authorization_pending")
	if err := o.ApproveDevice(context.Background(), da.UserCode); err != nil {
		t.Fatal(err)
	}
	wantToken(t, pollOnce(t, o, da.DeviceCode))
	if got := o.Requests(o.TokenPath()); got != 4 {
		t.Errorf("Requests(TokenPath) = %d, want 4", got)
	}
}

// TestDeviceBrowserForm approves through the HTML verification page.
func TestDeviceBrowserForm(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{})
	da := deviceAuth(t, o, "openid")

	resp, err := http.Get(da.VerificationURIComplete)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `value="`+da.UserCode+`"`) {
		t.Fatalf("verification page: status %d body %s", resp.StatusCode, body)
	}

	submit := func(password, action string) int {
		resp, err := http.PostForm(o.Issuer+"/device", url.Values{
			"user_code": {strings.ToLower(da.UserCode)},
			"username":  {o.Username},
			"password":  {password},
			"action":    {action},
		})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := submit("wrong", "allow"); got != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", got)
	}
	wantError(t, pollOnce(t, o, da.DeviceCode), "authorization_pending")
	if got := submit(o.Password, "allow"); got != http.StatusOK {
		t.Fatalf("allow: status %d, want 200", got)
	}
	wantToken(t, pollOnce(t, o, da.DeviceCode))
}

// callbackServer is the client's loopback redirect_uri listener.
type callbackServer struct {
	redirectURI string
	got         chan url.Values
}

func startCallback(t *testing.T, path string) *callbackServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cb := &callbackServer{redirectURI: "http://" + ln.Addr().String() + path, got: make(chan url.Values, 10)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		cb.got <- r.URL.Query()
		_, _ = io.WriteString(w, "you can close this window")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return cb
}

func (cb *callbackServer) wait(t *testing.T) url.Values {
	t.Helper()
	select {
	case q := <-cb.got:
		return q
	default:
		t.Fatal("the client's redirect_uri was not requested")
		return nil
	}
}

func TestAuthCodePKCE(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{})
	ctx := context.Background()
	cb := startCallback(t, "/callback")
	cfg := o.OAuth2Config(cb.redirectURI, "openid", "profile", "offline_access", "mcp:tools")

	verifier := oauth2.GenerateVerifier()
	state := "state-" + oauth2.GenerateVerifier()[:8]
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	if err := o.Browse(ctx, authURL); err != nil {
		t.Fatal(err)
	}
	q := cb.wait(t) // Browse returned, so the callback has been served
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback query %v, want state %q and a code", q, state)
	}

	// PKCE is enforced: a wrong verifier fails (and does not use up the code).
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("exchange with a wrong verifier: %v, want invalid_grant", err)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Fatalf("token %+v: want access, refresh and id token", tok)
	}
	if scope, _ := tok.Extra("scope").(string); scope != "openid profile offline_access mcp:tools" {
		t.Errorf("granted scope %q, want all requested scopes (custom ones too)", scope)
	}
	if left := time.Until(tok.Expiry); left < 4*time.Minute || left > 5*time.Minute {
		t.Errorf("access token expires in %v, want about 5m", left)
	}
	// The code is single use.
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("second exchange of the code: %v, want invalid_grant", err)
	}

	status, claims := userinfo(t, o, tok.AccessToken)
	if status != http.StatusOK || claims["sub"] != o.Username {
		t.Fatalf("userinfo: status %d claims %v, want sub %q", status, claims, o.Username)
	}
	if status, _ := userinfo(t, o, ""); status != http.StatusUnauthorized {
		t.Errorf("userinfo without a token: status %d, want 401", status)
	}

	// Refresh: a new access token and a new (rotated) refresh token.
	refreshed, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.AccessToken == "" || refreshed.AccessToken == tok.AccessToken {
		t.Errorf("refreshed access token %q, want a new one", refreshed.AccessToken)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Errorf("refreshed refresh token %q, want a new one (rotation)", refreshed.RefreshToken)
	}
	if status, claims := userinfo(t, o, refreshed.AccessToken); status != http.StatusOK || claims["sub"] != o.Username {
		t.Errorf("userinfo with the refreshed token: status %d claims %v", status, claims)
	}
	// The old refresh token is used up, and the access token issued with it
	// is revoked.
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("reusing the old refresh token: %v, want invalid_grant", err)
	}
	if status, _ := userinfo(t, o, tok.AccessToken); status != http.StatusForbidden {
		t.Errorf("userinfo with the pre-refresh access token: status %d, want 403", status)
	}

	// authorize, login form GET + POST, authorize/callback; token: wrong
	// verifier, exchange, second exchange, refresh, reused refresh.
	for path, want := range map[string]int{"/authorize": 1, loginPath: 2, "/authorize/callback": 1, o.TokenPath(): 5} {
		if got := o.Requests(path); got != want {
			t.Errorf("Requests(%q) = %d, want %d", path, got, want)
		}
	}
}

// TestAuthCodeAnyLoopbackPort checks redirect URIs the client did not
// register literally: other ports, and [::1] / localhost.
func TestAuthCodeLoopbackRedirects(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{})
	ctx := context.Background()
	for _, redirect := range []string{
		"http://127.0.0.1:1/callback",
		"http://[::1]:2/callback",
		"http://localhost:3/callback",
	} {
		authURL := o.OAuth2Config(redirect, "openid").AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		err := o.Browse(ctx, authURL)
		// Nothing listens there: Browse must get as far as requesting it.
		if err == nil || !strings.Contains(err.Error(), "request the client's redirect_uri") {
			t.Errorf("%s: Browse error %v, want a failure requesting the redirect_uri", redirect, err)
		}
	}
}

func TestBrowseErrors(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{})
	ctx := context.Background()
	cb := startCallback(t, "/cb")

	// Unregistered path: the OP refuses the authorization request itself.
	cfg := o.OAuth2Config(cb.redirectURI, "openid")
	err := o.Browse(ctx, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err == nil || !strings.Contains(err.Error(), "answered 400") || !strings.Contains(err.Error(), "redirect_uri") {
		t.Errorf("unregistered redirect_uri: Browse error %v, want the OP's 400 about the redirect_uri", err)
	}

	// Wrong password: the login step fails.
	cb2 := startCallback(t, "/callback")
	cfg = o.OAuth2Config(cb2.redirectURI, "openid")
	err = o.browse(ctx, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), o.Username, "wrong")
	if err == nil || !strings.Contains(err.Error(), "submit the login form") || !strings.Contains(err.Error(), "answered 401") {
		t.Errorf("wrong password: Browse error %v, want a login step failure with 401", err)
	}

	// An error the OP reports by redirecting to the client.
	cfg = o.OAuth2Config(cb2.redirectURI, "openid")
	authURL := cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", "x"), oauth2.SetAuthURLParam("code_challenge_method", "S512"))
	err = o.Browse(ctx, authURL)
	if err == nil || !strings.Contains(err.Error(), `error="invalid_request"`) {
		t.Errorf("unsupported code_challenge_method: Browse error %v, want error=invalid_request", err)
	}
}

func TestAccessTokenLifetime(t *testing.T) {
	t.Parallel()
	o := Start(t, Options{AccessTokenLifetime: 3 * time.Second})
	da := deviceAuth(t, o, "openid")
	if err := o.ApproveDevice(context.Background(), da.UserCode); err != nil {
		t.Fatal(err)
	}
	tok := pollOnce(t, o, da.DeviceCode)
	wantToken(t, tok)
	if tok.ExpiresIn < 2 || tok.ExpiresIn > 3 {
		t.Errorf("expires_in %d, want 2 or 3", tok.ExpiresIn)
	}
	if status, _ := userinfo(t, o, tok.AccessToken); status != http.StatusOK {
		t.Fatalf("userinfo before expiry: status %d", status)
	}
	time.Sleep(3100 * time.Millisecond)
	if status, _ := userinfo(t, o, tok.AccessToken); status != http.StatusForbidden {
		t.Errorf("userinfo after expiry: status %d, want 403", status)
	}
}

func TestOptionsValidation(t *testing.T) {
	t.Parallel()
	for _, opts := range []Options{
		{PollInterval: 500 * time.Millisecond},
		{PollInterval: 1500 * time.Millisecond},
		{DeviceLifetime: -time.Second},
		{SlowDown: -1},
		{AccessTokenLifetime: 10 * time.Minute},
		{Addr: "0.0.0.0:0"},
	} {
		if o, err := New(opts); err == nil {
			o.Close()
			t.Errorf("New(%+v) succeeded, want an error", opts)
		}
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	o, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := http.Get(o.Issuer + "/.well-known/openid-configuration"); err == nil {
		t.Error("OP still serving after Close")
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}
