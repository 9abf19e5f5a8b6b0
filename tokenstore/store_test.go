package tokenstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

type countingRefresher struct {
	calls   atomic.Int32
	gate    chan struct{} // if set, Refresh waits for it
	rotate  bool
	fail    error
	expires time.Time
}

func (r *countingRefresher) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	n := r.calls.Add(1)
	if r.gate != nil {
		<-r.gate
	}
	if r.fail != nil {
		return nil, r.fail
	}
	nt := &provider.Token{AccessToken: "at-" + string(rune('0'+n)), Expiry: r.expires}
	if r.rotate {
		nt.RefreshToken = t.RefreshToken + "+"
	}
	return nt, nil
}

func TestTokenStoreSingleFlightRefresh(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s := &Store{Now: func() time.Time { return now }}
	k := Key{Issuer: "https://issuer.example", ClientID: "c", Subject: "alice"}
	s.Put(k, &provider.Token{AccessToken: "old", RefreshToken: "rt", Expiry: now.Add(-time.Minute), Scopes: []string{"repo"}})
	r := &countingRefresher{gate: make(chan struct{}), rotate: true, expires: now.Add(time.Hour)}

	const callers = 1000
	var wg sync.WaitGroup
	results := make([]*provider.Token, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.Token(context.Background(), k, r)
		}()
	}
	// Let the callers pile up on the one refresh, then release it.
	for r.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(r.gate)
	wg.Wait()
	if got := r.calls.Load(); got != 1 {
		t.Fatalf("%d refresh requests for %d concurrent callers, want 1", got, callers)
	}
	for i := range callers {
		if errs[i] != nil || results[i].AccessToken != "at-1" {
			t.Fatalf("caller %d: %v, %v", i, results[i], errs[i])
		}
	}
	stored, _ := s.Peek(k)
	if stored.RefreshToken != "rt+" {
		t.Errorf("rotated refresh token not kept: %q", stored.RefreshToken)
	}
	if len(stored.Scopes) != 1 || stored.Scopes[0] != "repo" {
		t.Errorf("scopes lost on refresh: %v", stored.Scopes)
	}
	// A second expiry refreshes with the rotated token.
	now = now.Add(2 * time.Hour)
	r2 := &countingRefresher{rotate: true, expires: now.Add(time.Hour)}
	if _, err := s.Token(context.Background(), k, r2); err != nil {
		t.Fatal(err)
	}
	if stored, _ := s.Peek(k); stored.RefreshToken != "rt++" {
		t.Errorf("second rotation: refresh token %q, want rt++", stored.RefreshToken)
	}
}

func TestTokenStoreKeepsRefreshTokenWithoutRotation(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s := &Store{Now: func() time.Time { return now }}
	k := Key{Issuer: "i", ClientID: "c", Subject: "s"}
	s.Put(k, &provider.Token{AccessToken: "old", RefreshToken: "rt", Expiry: now.Add(-time.Second)})
	tok, err := s.Token(context.Background(), k, &countingRefresher{expires: now.Add(time.Hour)})
	if err != nil || tok.RefreshToken != "rt" {
		t.Fatalf("Token = %v, %v; want the old refresh token kept", tok, err)
	}
}

func TestTokenStoreFailedRefreshDropsToken(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s := &Store{Now: func() time.Time { return now }}
	k := Key{Issuer: "i", ClientID: "c", Subject: "s"}
	s.Put(k, &provider.Token{AccessToken: "old", RefreshToken: "rt", Expiry: now.Add(-time.Second)})
	r := &countingRefresher{fail: &provider.OAuthError{Code: "invalid_grant", StatusCode: 400}}
	_, err := s.Token(context.Background(), k, r)
	if !errors.Is(err, provider.ErrRefreshFailed) || !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("err = %v, want ErrRefreshFailed wrapping invalid_grant", err)
	}
	if _, ok := s.Peek(k); ok {
		t.Fatal("token kept after a failed refresh")
	}
	if _, err := s.Token(context.Background(), k, r); !errors.Is(err, provider.ErrNoToken) {
		t.Fatalf("next call: err = %v, want ErrNoToken (login again)", err)
	}
	if r.calls.Load() != 1 {
		t.Fatalf("refresh calls = %d, want 1", r.calls.Load())
	}
}

func TestTokenStoreValidAndMissing(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s := &Store{Now: func() time.Time { return now }}
	k := Key{Issuer: "i", ClientID: "c", Subject: "s"}
	if _, err := s.Token(context.Background(), k, nil); !errors.Is(err, provider.ErrNoToken) {
		t.Fatalf("empty store: %v", err)
	}
	s.Put(k, &provider.Token{AccessToken: "at", Expiry: now.Add(time.Hour)})
	r := &countingRefresher{}
	if tok, err := s.Token(context.Background(), k, r); err != nil || tok.AccessToken != "at" || r.calls.Load() != 0 {
		t.Fatalf("valid token: %v %v, refreshes %d", tok, err, r.calls.Load())
	}
	// Within the expiry leeway (30 s for a long-lived token) the token
	// counts as expired.
	s.Put(k, &provider.Token{AccessToken: "at", IssuedAt: now.Add(-time.Hour), Expiry: now.Add(10 * time.Second)})
	if _, err := s.Token(context.Background(), k, nil); !errors.Is(err, provider.ErrRefreshFailed) {
		t.Fatalf("expiring token without refresh: %v", err)
	}
	// A token that lives 2 s is valid for its first half, not refreshed on
	// every use (the leeway is half its lifetime).
	s.Put(k, &provider.Token{AccessToken: "short", Expiry: now.Add(2 * time.Second)})
	if tok, err := s.Token(context.Background(), k, r); err != nil || tok.AccessToken != "short" || r.calls.Load() != 0 {
		t.Fatalf("fresh short-lived token: %v %v, refreshes %d", tok, err, r.calls.Load())
	}
	now = now.Add(1100 * time.Millisecond)
	if _, err := s.Token(context.Background(), k, nil); !errors.Is(err, provider.ErrRefreshFailed) {
		t.Fatalf("short-lived token past half its life: %v", err)
	}
	// A token without expiry (GitHub OAuth App) stays valid.
	s.Put(k, &provider.Token{AccessToken: "forever"})
	if tok, err := s.Token(context.Background(), k, nil); err != nil || tok.AccessToken != "forever" {
		t.Fatalf("non-expiring token: %v %v", tok, err)
	}
	s.Delete(k)
	if _, err := s.Token(context.Background(), k, nil); !errors.Is(err, provider.ErrNoToken) {
		t.Fatalf("after Delete: %v", err)
	}
}

func TestTokenStoreCallerCancelDoesNotFailOthers(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s := &Store{Now: func() time.Time { return now }}
	k := Key{Issuer: "i", ClientID: "c", Subject: "s"}
	s.Put(k, &provider.Token{AccessToken: "old", RefreshToken: "rt", Expiry: now.Add(-time.Second)})
	r := &countingRefresher{gate: make(chan struct{}), expires: now.Add(time.Hour)}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := s.Token(ctx, k, r); first <- err }()
	for r.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error, 1)
	go func() { _, err := s.Token(context.Background(), k, r); second <- err }()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v", err)
	}
	close(r.gate)
	if err := <-second; err != nil {
		t.Fatalf("second caller failed because the first gave up: %v", err)
	}
}
