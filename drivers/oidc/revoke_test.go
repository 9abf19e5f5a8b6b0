package oidc_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/internal/optest/nodeop"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

// revocationRequest is what a fake revocation endpoint received.
type revocationRequest struct {
	form url.Values
	auth string // Authorization header
}

// revocationAS is a fake authorization server whose revocation endpoint
// answers with reply, called with the request's form.
type revocationAS struct {
	*httptest.Server
	mu    sync.Mutex
	got   []revocationRequest
	reply func(w http.ResponseWriter, form url.Values)
}

func newRevocationAS(t *testing.T, reply func(w http.ResponseWriter, form url.Values)) *revocationAS {
	as := &revocationAS{reply: reply}
	as.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/revoke" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		as.mu.Lock()
		as.got = append(as.got, revocationRequest{form: form, auth: r.Header.Get("Authorization")})
		as.mu.Unlock()
		as.reply(w, form)
	}))
	t.Cleanup(as.Close)
	return as
}

func (as *revocationAS) requests() []revocationRequest {
	as.mu.Lock()
	defer as.mu.Unlock()
	return append([]revocationRequest(nil), as.got...)
}

func (as *revocationAS) metadata(revocation bool) *provider.AuthServerMetadata {
	m := &provider.AuthServerMetadata{Issuer: as.URL, TokenEndpoint: as.URL + "/token"}
	if revocation {
		m.RevocationEndpoint = as.URL + "/revoke"
	}
	return m
}

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, `{"error":"`+code+`","error_description":"said the server"}`)
}

const (
	testAccess  = "at-SECRET-1"
	testRefresh = "rt-SECRET-2"
)

// The wire: refresh token first, then the access token, each with its hint;
// client authentication as at the token endpoint; the server's answers.
func TestRevokeWire(t *testing.T) {
	type sent struct{ token, hint string }
	ok := func(w http.ResponseWriter, _ url.Values) { w.WriteHeader(http.StatusOK) }
	tests := []struct {
		name   string
		secret string
		tok    provider.Token
		reply  func(w http.ResponseWriter, form url.Values)
		want   []sent
		// wantErr is the OAuth error code expected, "" for success.
		wantErr string
		is      error
	}{
		{name: "both tokens, refresh first", tok: provider.Token{AccessToken: testAccess, RefreshToken: testRefresh}, reply: ok,
			want: []sent{{testRefresh, "refresh_token"}, {testAccess, "access_token"}}},
		{name: "access token only", tok: provider.Token{AccessToken: testAccess}, reply: ok,
			want: []sent{{testAccess, "access_token"}}},
		{name: "confidential client, basic auth", secret: "s3cr/t", tok: provider.Token{AccessToken: testAccess}, reply: ok,
			want: []sent{{testAccess, "access_token"}}},
		{name: "unsupported_token_type: retried without hint, then the access token is left to expire",
			tok: provider.Token{AccessToken: testAccess, RefreshToken: testRefresh},
			reply: func(w http.ResponseWriter, form url.Values) {
				if form.Get("token") == testAccess {
					oauthError(w, http.StatusBadRequest, "unsupported_token_type")
				}
			},
			want: []sent{{testRefresh, "refresh_token"}, {testAccess, "access_token"}, {testAccess, ""}}},
		{name: "a hint the server refuses; without it the token is revoked",
			tok: provider.Token{RefreshToken: testRefresh},
			reply: func(w http.ResponseWriter, form url.Values) {
				if form.Has("token_type_hint") {
					oauthError(w, http.StatusBadRequest, "unsupported_token_type")
				}
			},
			want: []sent{{testRefresh, "refresh_token"}, {testRefresh, ""}}},
		{name: "a refresh token that cannot be revoked is an error",
			tok: provider.Token{RefreshToken: testRefresh},
			reply: func(w http.ResponseWriter, _ url.Values) {
				oauthError(w, http.StatusBadRequest, "unsupported_token_type")
			},
			want: []sent{{testRefresh, "refresh_token"}, {testRefresh, ""}}, wantErr: "unsupported_token_type"},
		{name: "invalid_token: already dead", tok: provider.Token{AccessToken: testAccess, RefreshToken: testRefresh},
			reply: func(w http.ResponseWriter, _ url.Values) { oauthError(w, http.StatusBadRequest, "invalid_token") },
			want:  []sent{{testRefresh, "refresh_token"}, {testAccess, "access_token"}}},
		{name: "invalid_client: both tried, typed error", tok: provider.Token{AccessToken: testAccess, RefreshToken: testRefresh},
			reply: func(w http.ResponseWriter, _ url.Values) { oauthError(w, http.StatusUnauthorized, "invalid_client") },
			want:  []sent{{testRefresh, "refresh_token"}, {testAccess, "access_token"}}, wantErr: "invalid_client", is: provider.ErrInvalidClient},
		{name: "an error page quoting the token", tok: provider.Token{AccessToken: testAccess},
			reply: func(w http.ResponseWriter, form url.Values) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, "<p>cannot revoke "+form.Get("token")+"</p>")
			},
			want: []sent{{testAccess, "access_token"}}, wantErr: "invalid_response"},
		{name: "503 with an OAuth error is transient", tok: provider.Token{AccessToken: testAccess},
			reply: func(w http.ResponseWriter, _ url.Values) {
				oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable")
			},
			want: []sent{{testAccess, "access_token"}}, wantErr: "temporarily_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newRevocationAS(t, tt.reply)
			d, err := oidc.New(oidc.Config{ClientID: "cli/ent", ClientSecret: tt.secret, Metadata: as.metadata(true)})
			if err != nil {
				t.Fatal(err)
			}
			err = d.Revoke(context.Background(), &tt.tok)
			got := as.requests()
			if len(got) != len(tt.want) {
				t.Fatalf("%d requests, want %d (err %v)", len(got), len(tt.want), err)
			}
			for i, r := range got {
				if r.form.Get("token") != tt.want[i].token || r.form.Get("token_type_hint") != tt.want[i].hint ||
					r.form.Has("token_type_hint") != (tt.want[i].hint != "") {
					t.Errorf("request %d: token %q hint %q, want %+v", i, r.form.Get("token"), r.form.Get("token_type_hint"), tt.want[i])
				}
				if tt.secret == "" {
					if r.form.Get("client_id") != "cli/ent" || r.auth != "" || r.form.Has("client_secret") {
						t.Errorf("public client: client_id %q, Authorization %q", r.form.Get("client_id"), r.auth)
					}
				} else {
					want := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("cli/ent")+":"+url.QueryEscape(tt.secret)))
					if r.auth != want || r.form.Has("client_id") || r.form.Has("client_secret") {
						t.Errorf("confidential client: Authorization %q, form %v", r.auth, r.form)
					}
				}
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Revoke = %v", err)
				}
				return
			}
			var oe *provider.OAuthError
			if !errors.As(err, &oe) || oe.Code != tt.wantErr || oe.Endpoint != "revocation" || oe.StatusCode == 0 {
				t.Fatalf("Revoke = %#v, want an OAuthError %s from the revocation endpoint", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Revoke = %v, does not match %v", err, tt.is)
			}
			if tt.wantErr == "temporarily_unavailable" && !provider.IsTransient(err) {
				t.Errorf("a 503 is not transient: %v", err)
			}
			if msg := err.Error(); strings.Contains(msg, "SECRET") || strings.Contains(msg, "cannot revoke") {
				t.Errorf("error text quotes a token or the body: %s", msg)
			}
		})
	}
}

// No revocation_endpoint: ErrRevocationUnsupported, no request; the
// Endpoints override supplies one.
func TestRevokeEndpoint(t *testing.T) {
	as := newRevocationAS(t, func(w http.ResponseWriter, _ url.Values) {})
	d, err := oidc.New(oidc.Config{ClientID: "c", Metadata: as.metadata(false)})
	if err != nil {
		t.Fatal(err)
	}
	tok := &provider.Token{AccessToken: testAccess, RefreshToken: testRefresh}
	if err := d.Revoke(context.Background(), tok); !errors.Is(err, provider.ErrRevocationUnsupported) {
		t.Fatalf("Revoke without revocation_endpoint = %v, want ErrRevocationUnsupported", err)
	}
	if n := len(as.requests()); n != 0 {
		t.Fatalf("%d requests without a revocation endpoint", n)
	}
	d, err = oidc.New(oidc.Config{ClientID: "c", Metadata: as.metadata(false), Endpoints: provider.Endpoints{Revocation: "/revoke"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Revoke(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if n := len(as.requests()); n != 2 {
		t.Fatalf("%d requests to the overridden endpoint, want 2", n)
	}
	if err := d.Revoke(context.Background(), nil); err == nil {
		t.Fatal("Revoke(nil) succeeded")
	}
}

// A cancelled context stops the revocation with the context's error.
func TestRevokeCancelled(t *testing.T) {
	release := make(chan struct{})
	as := newRevocationAS(t, func(http.ResponseWriter, url.Values) { <-release })
	t.Cleanup(func() { close(release) })
	d, err := oidc.New(oidc.Config{ClientID: "c", Metadata: as.metadata(true)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = d.Revoke(ctx, &provider.Token{AccessToken: testAccess})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Revoke = %v, want a deadline error", err)
	}
}

// deviceLogin logs in to op through d with the device grant.
func deviceLogin(t *testing.T, ctx context.Context, op *nodeop.OP, d provider.Driver) *provider.Token {
	t.Helper()
	l := &login.Login{
		Preference: login.PreferDevice,
		Device:     login.DevicePoller{Sleep: (&logintest.ShortSleep{}).Sleep},
		ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error {
			return op.ApproveDevice(ctx, da.UserCode)
		},
	}
	tok, err := l.Run(ctx, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wantActive checks what the OP's introspection endpoint says of token.
func wantActive(t *testing.T, ctx context.Context, op *nodeop.OP, what, token string, active bool) {
	t.Helper()
	in, err := op.Introspect(ctx, token)
	if err != nil {
		t.Fatalf("introspect %s: %v", what, err)
	}
	if in.Active != active {
		t.Fatalf("%s: active = %v, want %v", what, in.Active, active)
	}
}

// Against oidc-provider: tokens are active after login, inactive after
// Revoke, and the refresh token no longer refreshes.
func TestRevokeRealOP(t *testing.T) {
	t.Run("access and refresh token", func(t *testing.T) {
		op := nodeop.Start(t, nodeop.Options{})
		d := newDriver(t, startedNode(op))
		ctx := testContext(t)
		tok := deviceLogin(t, ctx, op, d)
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token issued")
		}
		wantActive(t, ctx, op, "access token before Revoke", tok.AccessToken, true)
		wantActive(t, ctx, op, "refresh token before Revoke", tok.RefreshToken, true)
		if err := d.(provider.Revoker).Revoke(ctx, tok); err != nil {
			t.Fatal(err)
		}
		wantActive(t, ctx, op, "access token after Revoke", tok.AccessToken, false)
		wantActive(t, ctx, op, "refresh token after Revoke", tok.RefreshToken, false)
		if n, err := op.Requests("/token/revocation"); err != nil || n != 2 {
			t.Errorf("revocation requests = %d, %v; want 2", n, err)
		}
		if _, err := d.(provider.Refresher).Refresh(ctx, tok); !errors.Is(err, provider.ErrInvalidGrant) {
			t.Fatalf("Refresh after Revoke = %v, want invalid_grant", err)
		}
		// Revoking again: the tokens are invalid, which is success (RFC 7009 §2.2).
		if err := d.(provider.Revoker).Revoke(ctx, tok); err != nil {
			t.Fatalf("second Revoke = %v", err)
		}
	})
	// Without a refresh token the access token's own revocation is what
	// kills it (with one, oidc-provider revokes the grant with the refresh token).
	t.Run("access token only", func(t *testing.T) {
		op := nodeop.Start(t, nodeop.Options{NoRefreshToken: true})
		d := newDriver(t, startedNode(op))
		ctx := testContext(t)
		tok := deviceLogin(t, ctx, op, d)
		if tok.RefreshToken != "" {
			t.Fatal("a refresh token was issued")
		}
		wantActive(t, ctx, op, "access token before Revoke", tok.AccessToken, true)
		if err := d.(provider.Revoker).Revoke(ctx, tok); err != nil {
			t.Fatal(err)
		}
		wantActive(t, ctx, op, "access token after Revoke", tok.AccessToken, false)
	})
	// A JWT access token (issued for an RFC 8707 resource) cannot be
	// revoked: oidc-provider answers unsupported_token_type, with and
	// without the hint. The refresh token is revoked; the JWT is left to
	// expire, and Revoke succeeds.
	t.Run("JWT access token", func(t *testing.T) {
		op := nodeop.Start(t, nodeop.Options{})
		d, err := oidc.New(oidc.Config{Issuer: op.Issuer, ClientID: op.ClientID, Scopes: []string{"openid", "mcp:tools"},
			ExtraParams: map[string]string{"resource": "https://api.example.com/"}})
		if err != nil {
			t.Fatal(err)
		}
		ctx := testContext(t)
		tok := deviceLogin(t, ctx, op, d)
		if strings.Count(tok.AccessToken, ".") != 2 || tok.RefreshToken == "" {
			t.Fatal("want a JWT access token and a refresh token")
		}
		wantActive(t, ctx, op, "refresh token before Revoke", tok.RefreshToken, true)
		if err := d.Revoke(ctx, tok); err != nil {
			t.Fatal(err)
		}
		wantActive(t, ctx, op, "refresh token after Revoke", tok.RefreshToken, false)
		if n, err := op.Requests("/token/revocation"); err != nil || n != 3 {
			t.Errorf("revocation requests = %d, %v; want 3 (refresh, access with hint, access without)", n, err)
		}
	})
}

// startedNode wraps an already started nodeop.OP for newDriver.
func startedNode(op *nodeop.OP) *realOP {
	return &realOP{issuer: op.Issuer, clientID: op.ClientID, scopes: []string{"openid", "offline_access"}}
}
