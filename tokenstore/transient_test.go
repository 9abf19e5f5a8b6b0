package tokenstore

import (
	"context"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// scriptedRefresher answers refreshes from a script (nil entry = success).
type scriptedRefresher struct {
	answers []error
	calls   int
}

func (r *scriptedRefresher) Refresh(_ context.Context, t *provider.Token) (*provider.Token, error) {
	r.calls++
	if r.calls > len(r.answers) {
		return nil, errors.New("test: refresh beyond the script")
	}
	if err := r.answers[r.calls-1]; err != nil {
		return nil, err
	}
	return &provider.Token{AccessToken: "new", Expiry: time.Unix(1_000_000, 0).Add(time.Hour)}, nil
}

// TestTokenStoreTransientRefreshKeepsToken: a refresh that got no answer
// (a timeout, a 5xx) says nothing about the refresh token, so the token is
// kept and the next call retries; only a rejection (invalid_grant,
// invalid_client) drops it and asks for a login.
func TestTokenStoreTransientRefreshKeepsToken(t *testing.T) {
	timeout := &url.Error{Op: "Post", URL: "https://as.example/token", Err: os.ErrDeadlineExceeded}
	unavailable := &provider.OAuthError{Endpoint: "token", Code: "server_error", StatusCode: 503}
	tests := []struct {
		name      string
		answers   []error
		wantDrop  error // the call that drops the token fails with this; nil: never dropped
		wantCalls int
	}{
		{"timeout, 503, then success", []error{timeout, unavailable, nil}, nil, 3},
		{"503 then invalid_grant", []error{unavailable, &provider.OAuthError{Code: "invalid_grant", StatusCode: 400}}, provider.ErrInvalidGrant, 2},
		{"invalid_client", []error{&provider.OAuthError{Code: "invalid_client", StatusCode: 401}}, provider.ErrInvalidClient, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(1_000_000, 0)
			s := &Store{Now: func() time.Time { return now }}
			k := Key{Issuer: "i", ClientID: "c", Subject: "s"}
			s.Put(k, &provider.Token{AccessToken: "old", RefreshToken: "rt", Expiry: now.Add(-time.Second)})
			r := &scriptedRefresher{answers: tt.answers}
			for i, want := range tt.answers {
				tok, err := s.Token(context.Background(), k, r)
				switch {
				case want == nil:
					if err != nil || tok.AccessToken != "new" || tok.RefreshToken != "rt" {
						t.Fatalf("call %d: Token = %v, %v; want the refreshed token", i, tok, err)
					}
				case tt.wantDrop != nil && i == len(tt.answers)-1:
					if !errors.Is(err, provider.ErrRefreshFailed) || !errors.Is(err, tt.wantDrop) {
						t.Fatalf("call %d: err = %v, want ErrRefreshFailed wrapping %v", i, err, tt.wantDrop)
					}
					if _, ok := s.Peek(k); ok {
						t.Fatalf("call %d: token kept after %v", i, err)
					}
				default:
					if !errors.Is(err, ErrRefreshTransient) || errors.Is(err, provider.ErrRefreshFailed) {
						t.Fatalf("call %d: err = %v, want ErrRefreshTransient and not ErrRefreshFailed", i, err)
					}
					if !errors.Is(err, want) {
						t.Errorf("call %d: err = %v does not wrap the cause %v", i, err, want)
					}
					if got, ok := s.Peek(k); !ok || got.RefreshToken != "rt" {
						t.Fatalf("call %d: token dropped after a transient failure", i)
					}
				}
			}
			if r.calls != tt.wantCalls {
				t.Errorf("refresh calls = %d, want %d", r.calls, tt.wantCalls)
			}
		})
	}
}
