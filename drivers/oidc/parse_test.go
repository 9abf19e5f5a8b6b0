package oidc

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

func TestParseTokenResponse(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	const js, form = "application/json", "application/x-www-form-urlencoded"
	tests := []struct {
		name       string
		status     int
		ct, body   string
		wantCode   string
		wantErr    error
		wantScopes []string
		wantExpiry time.Time
		interval   time.Duration
	}{
		{name: "json success", status: 200, ct: js, body: `{"access_token":"a","token_type":"Bearer","expires_in":3600,"scope":"openid repo","refresh_token":"r"}`,
			wantScopes: []string{"openid", "repo"}, wantExpiry: now.Add(time.Hour)},
		{name: "form success, comma scopes (GitHub)", status: 200, ct: form, body: `access_token=a&scope=repo%2Cuser&token_type=bearer`,
			wantScopes: []string{"repo", "user"}},
		{name: "json error 400", status: 400, ct: js, body: `{"error":"authorization_pending"}`, wantCode: "authorization_pending", wantErr: provider.ErrAuthorizationPending},
		{name: "200 with error (GitHub)", status: 200, ct: js, body: `{"error":"slow_down","error_description":"Too many requests","interval":10}`,
			wantCode: "slow_down", wantErr: provider.ErrSlowDown, interval: 10 * time.Second},
		{name: "form 200 with error (GitHub default)", status: 200, ct: form, body: `error=access_denied&error_description=denied`, wantCode: "access_denied", wantErr: provider.ErrAccessDenied},
		{name: "expired", status: 400, ct: js, body: `{"error":"expired_token"}`, wantCode: "expired_token", wantErr: provider.ErrExpiredToken},
		{name: "unknown error code kept", status: 400, ct: js, body: `{"error":"device_flow_disabled","error_description":"enable it"}`, wantCode: "device_flow_disabled"},
		{name: "200 without access_token", status: 200, ct: js, body: `{"token_type":"Bearer"}`, wantCode: "invalid_response"},
		{name: "500 without error", status: 500, ct: js, body: `{}`, wantCode: "invalid_response"},
		{name: "malformed json", status: 200, ct: js, body: `{"access_token":`, wantCode: "invalid_response"},
		{name: "html page", status: 502, ct: "text/html", body: `<html>bad gateway</html>`, wantCode: "invalid_response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := ParseTokenResponse(tt.status, tt.ct, []byte(tt.body), now)
			if tt.wantCode != "" {
				var oe *provider.OAuthError
				if !errors.As(err, &oe) || oe.Code != tt.wantCode || oe.StatusCode != tt.status {
					t.Fatalf("err = %#v, want OAuthError %s", err, tt.wantCode)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("err does not match %v", tt.wantErr)
				}
				if oe.Interval != tt.interval {
					t.Errorf("interval = %s, want %s", oe.Interval, tt.interval)
				}
				return
			}
			if err != nil || tok.AccessToken != "a" {
				t.Fatalf("token = %v, %v", tok, err)
			}
			if !slices.Equal(tok.Scopes, tt.wantScopes) || !tok.Expiry.Equal(tt.wantExpiry) {
				t.Errorf("scopes %v expiry %v, want %v %v", tok.Scopes, tok.Expiry, tt.wantScopes, tt.wantExpiry)
			}
		})
	}
}

func TestBearerChallenge(t *testing.T) {
	h := func(v ...string) http.Header { return http.Header{"Www-Authenticate": v} }
	tests := []struct {
		name   string
		status int
		header http.Header
		want   []string
		ok     bool
	}{
		{"insufficient scope 403", 403, h(`Bearer realm="api", error="insufficient_scope", scope="repo read:org", error_description="needs \"repo\""`), []string{"repo", "read:org"}, true},
		{"401 too", 401, h(`Bearer error="insufficient_scope",scope="a"`), []string{"a"}, true},
		{"unquoted values", 403, h(`bearer error=insufficient_scope, scope=files`), []string{"files"}, true},
		{"second challenge", 403, h(`Basic realm="x"`, `Bearer error="insufficient_scope", scope="b"`), []string{"b"}, true},
		{"invalid token is not a scope challenge", 401, h(`Bearer error="invalid_token"`), nil, false},
		{"no header", 403, http.Header{}, nil, false},
		{"200 is never a challenge", 200, h(`Bearer error="insufficient_scope", scope="a"`), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := BearerChallenge(provider.APIResponse{StatusCode: tt.status, Header: tt.header})
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && !slices.Equal(c.Scopes, tt.want) {
				t.Fatalf("scopes = %q, want %q", c.Scopes, tt.want)
			}
		})
	}
	c, _ := BearerChallenge(provider.APIResponse{StatusCode: 403, Header: h(`Bearer error="insufficient_scope", scope="repo", error_description="needs \"repo\""`)})
	if c.Description != `needs "repo"` {
		t.Errorf("description = %q", c.Description)
	}
}

func TestNewValidates(t *testing.T) {
	meta := &provider.AuthServerMetadata{Issuer: "https://as.example", TokenEndpoint: "https://as.example/token"}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no client", Config{Metadata: meta}},
		{"no metadata nor issuer", Config{ClientID: "c"}},
		{"http issuer to discover", Config{ClientID: "c", Issuer: "http://as.example"}},
		{"bad endpoint override", Config{ClientID: "c", Metadata: meta, Endpoints: provider.Endpoints{Token: "http://as.example/token"}}},
		{"issuer differs", Config{ClientID: "c", Issuer: "https://other.example", Metadata: meta}},
		{"http endpoint", Config{ClientID: "c", Metadata: &provider.AuthServerMetadata{Issuer: "https://as.example", TokenEndpoint: "http://as.example/token"}}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if _, err := New(Config{ClientID: "c", Metadata: meta}); err != nil {
		t.Fatal(err)
	}
}
