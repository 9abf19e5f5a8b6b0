package devidp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// noRedirects is a client that shows every redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type response struct {
	status   int
	body     string
	location *url.URL
	header   http.Header
}

func do(t *testing.T, method, u string, form url.Values) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, body: string(b), header: resp.Header}
	if loc := resp.Header.Get("Location"); loc != "" {
		r.location, err = resp.Request.URL.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// follow requests u and follows redirects while they stay on the server;
// it returns the last response from the server and, if the server
// redirected elsewhere (to the client), that URL.
func follow(t *testing.T, s *Server, u string) (response, *url.URL) {
	t.Helper()
	for range 10 {
		r := do(t, http.MethodGet, u, nil)
		if r.location == nil {
			return r, nil
		}
		if !strings.HasPrefix(r.location.String(), s.Issuer+"/") {
			return r, r.location
		}
		u = r.location.String()
	}
	t.Fatal("too many redirects")
	return response{}, nil
}

const redirectURI = "http://127.0.0.1:1/callback" // never requested: the tests stop at the redirect

func TestAuthServerMetadataEqualsOIDCDiscovery(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	get := func(path string) map[string]any {
		r := do(t, http.MethodGet, s.Issuer+path, nil)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET %s: %d %s %s", path, r.status, r.header.Get("Content-Type"), r.body)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(r.body), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	rfc8414, oidc := get(AuthServerMetadataPath), get("/.well-known/openid-configuration")
	if !reflect.DeepEqual(rfc8414, oidc) {
		t.Errorf("RFC 8414 document\n%v\ndiffers from OIDC discovery\n%v", rfc8414, oidc)
	}
	if rfc8414["issuer"] != s.Issuer || rfc8414["device_authorization_endpoint"] != s.Issuer+s.DevicePath() {
		t.Errorf("issuer %v, device endpoint %v", rfc8414["issuer"], rfc8414["device_authorization_endpoint"])
	}

	only := start(t, Options{OIDCDiscoveryOnly: true})
	if r := do(t, http.MethodGet, only.Issuer+AuthServerMetadataPath, nil); r.status != http.StatusNotFound {
		t.Errorf("OIDCDiscoveryOnly: RFC 8414 document answered %d, want 404", r.status)
	}
}

func TestClientID(t *testing.T) {
	t.Parallel()
	if s := start(t, Options{}); s.ClientID != DefaultClientID {
		t.Errorf("default ClientID %q, want %q", s.ClientID, DefaultClientID)
	}
	s := start(t, Options{ClientID: "my-app", AutoApprove: true})
	cfg := s.OAuth2Config("", "openid")
	if _, err := cfg.DeviceAuth(context.Background()); err != nil {
		t.Fatalf("device authorization as my-app: %v", err)
	}
	cfg.ClientID = DefaultClientID
	var re *oauth2.RetrieveError
	if _, err := cfg.DeviceAuth(context.Background()); !errors.As(err, &re) {
		t.Errorf("device authorization as an unknown client: %v, want an OAuth error", err)
	}
}

func TestAutoApproveDevice(t *testing.T) {
	t.Parallel()
	s := start(t, Options{AutoApprove: true})
	ctx := context.Background()
	cfg := s.OAuth2Config("", "openid", "offline_access")
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// One poll, by hand: the first answer must already be the tokens.
	resp, err := http.PostForm(cfg.Endpoint.TokenURL, url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {da.DeviceCode},
		"client_id":   {s.ClientID},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("first poll: %d %+v, want tokens", resp.StatusCode, tok)
	}
	if got := s.Requests(s.TokenPath()); got != 1 {
		t.Errorf("%d token requests, want 1", got)
	}
	// The refresh token works (the public client may refresh).
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Errorf("refresh: %v", err)
	}
}

func TestAutoApprovePKCE(t *testing.T) {
	t.Parallel()
	s := start(t, Options{AutoApprove: true})
	cfg := s.OAuth2Config(redirectURI, "openid", "offline_access")
	verifier := oauth2.GenerateVerifier()
	last, client := follow(t, s, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	if client == nil {
		t.Fatalf("the server answered %d without sending the browser back to the client: %s", last.status, last.body)
	}
	if client.Query().Get("state") != "st" || client.Query().Get("code") == "" {
		t.Fatalf("redirect to the client %s, want a code and state=st", client)
	}
	if got := s.Requests(LoginPagePath); got != 1 {
		t.Errorf("login page requested %d times, want 1 (answered with a redirect)", got)
	}
	tok, err := cfg.Exchange(context.Background(), client.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("Exchange: %v (refresh token %q)", err, tok.RefreshToken)
	}
}

func TestLoginPage(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	cfg := s.OAuth2Config(redirectURI, "openid", "mcp:tools")
	verifier := oauth2.GenerateVerifier()

	open := func(state string) (id string) {
		page, client := follow(t, s, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
		if client != nil || page.status != http.StatusOK {
			t.Fatalf("want the login page, got %d (redirect to %v)", page.status, client)
		}
		for _, want := range []string{
			`<code>` + s.ClientID + `</code>`, `<code>openid</code>, <code>mcp:tools</code>`,
			`value="` + s.Username + `"`, `value="` + s.Password + `"`,
			`name="action" value="approve"`, `name="action" value="deny"`,
		} {
			if !strings.Contains(page.body, want) {
				t.Errorf("login page lacks %s:\n%s", want, page.body)
			}
		}
		m := regexpFind(t, page.body, `name="id" value="([^"]+)"`)
		return m
	}

	// Deny: back to the client with error=access_denied.
	id := open("denied")
	r := do(t, http.MethodPost, s.Issuer+LoginPagePath, url.Values{"id": {id}, "username": {s.Username}, "password": {s.Password}, "action": {"deny"}})
	if r.location == nil || r.location.Query().Get("error") != "access_denied" || r.location.Query().Get("state") != "denied" ||
		!strings.HasPrefix(r.location.String(), redirectURI) {
		t.Errorf("deny: %d, Location %v; want a redirect to the client with error=access_denied", r.status, r.location)
	}

	// No action: refused, the request stays open.
	id = open("approved")
	if r := do(t, http.MethodPost, s.Issuer+LoginPagePath, url.Values{"id": {id}, "username": {s.Username}, "password": {s.Password}}); r.status != http.StatusBadRequest {
		t.Errorf("no action: %d, want 400", r.status)
	}
	// Approve: the code flow completes.
	r = do(t, http.MethodPost, s.Issuer+LoginPagePath, url.Values{"id": {id}, "username": {s.Username}, "password": {s.Password}, "action": {"approve"}})
	if r.location == nil {
		t.Fatalf("approve: %d %s, want a redirect", r.status, r.body)
	}
	_, client := follow(t, s, r.location.String())
	if client == nil || client.Query().Get("code") == "" || client.Query().Get("state") != "approved" {
		t.Fatalf("approve: ended at %v, want the client with a code", client)
	}
	if _, err := cfg.Exchange(context.Background(), client.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Errorf("Exchange: %v", err)
	}
}

func TestDevicePage(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	ctx := context.Background()
	cfg := s.OAuth2Config("", "openid", "offline_access")
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if da.VerificationURI != s.Issuer+DevicePagePath {
		t.Errorf("verification_uri %s, want %s", da.VerificationURI, s.Issuer+DevicePagePath)
	}

	// Step 1: enter the code.
	r := do(t, http.MethodGet, da.VerificationURI, nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, `<form method="get" action="/device">`) || strings.Contains(r.body, `value="approve"`) {
		t.Errorf("code entry page: %d\n%s", r.status, r.body)
	}
	if r := do(t, http.MethodGet, da.VerificationURI+"?user_code=BCDF-GHJK", nil); r.status != http.StatusNotFound || !strings.Contains(r.body, "unknown code") {
		t.Errorf("unknown code: %d\n%s", r.status, r.body)
	}
	// Step 2: what it asks for, approve or deny. Codes are forgiven case.
	r = do(t, http.MethodGet, s.Issuer+DevicePagePath+"?user_code="+strings.ToLower(da.UserCode), nil)
	for _, want := range []string{`<code>` + da.UserCode + `</code>`, `<code>` + s.ClientID + `</code>`, `<code>offline_access</code>`, `value="approve"`, `value="deny"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("approval page lacks %s:\n%s", want, r.body)
		}
	}
	r = do(t, http.MethodPost, s.Issuer+DevicePagePath, url.Values{"user_code": {da.UserCode}, "username": {s.Username}, "password": {s.Password}, "action": {"deny"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "denied") {
		t.Errorf("deny: %d\n%s", r.status, r.body)
	}
	var re *oauth2.RetrieveError
	if _, err := cfg.DeviceAccessToken(ctx, da); !errors.As(err, &re) || re.ErrorCode != "access_denied" {
		t.Errorf("poll after deny: %v, want access_denied", err)
	}
	// A denied code cannot be approved afterwards.
	if r := do(t, http.MethodGet, s.Issuer+DevicePagePath+"?user_code="+da.UserCode, nil); r.status != http.StatusNotFound || !strings.Contains(r.body, "was denied") {
		t.Errorf("denied code: %d\n%s", r.status, r.body)
	}
}

func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	if s, err := New(Options{Addr: "0.0.0.0:0"}); err == nil {
		s.Close()
		t.Fatal("listening on 0.0.0.0 succeeded, want an error")
	}
}

func regexpFind(t *testing.T, s, expr string) string {
	t.Helper()
	m := regexp.MustCompile(expr).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in\n%s", expr, s)
	}
	return m[1]
}
