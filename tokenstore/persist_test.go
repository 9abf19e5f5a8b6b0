package tokenstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore/filelock"
)

// memBackend is a Backend over a map of encoded records, standing in for
// a keychain or file shared by several processes.
type memBackend struct {
	mu      sync.Mutex
	records map[Key][]byte
}

func (b *memBackend) Load(_ context.Context, k Key) (*Record, error) {
	b.mu.Lock()
	data, ok := b.records[k]
	b.mu.Unlock()
	if !ok {
		return nil, ErrNotFound
	}
	return DecodeRecord(data)
}

func (b *memBackend) Save(_ context.Context, r *Record) error {
	data, err := EncodeRecord(r)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.records == nil {
		b.records = make(map[Key][]byte)
	}
	b.records[r.Key] = data
	return nil
}

func (b *memBackend) Delete(_ context.Context, k Key) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.records, k)
	return nil
}

func (b *memBackend) List(context.Context) ([]Key, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var keys []Key
	for k := range b.records {
		keys = append(keys, k)
	}
	return keys, nil
}

// rotatingIssuer is an issuer's token endpoint that rotates refresh
// tokens (the old one is revoked at once, RFC 9700 §4.14.2) and counts
// requests. Its Refresher is shared by every "process".
type rotatingIssuer struct {
	now     func() time.Time
	mu      sync.Mutex
	current string // the one valid refresh token
	calls   int
	refused int
}

func (r *rotatingIssuer) Refresh(_ context.Context, t *provider.Token) (*provider.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if t.RefreshToken != r.current {
		r.refused++
		return nil, &provider.OAuthError{Code: "invalid_grant", StatusCode: 400}
	}
	r.current = fmt.Sprintf("rt-%d", r.calls)
	return &provider.Token{AccessToken: fmt.Sprintf("at-%d", r.calls), RefreshToken: r.current, Expiry: r.now().Add(time.Hour)}, nil
}

func (r *rotatingIssuer) counts() (calls, refused int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, r.refused
}

type clock struct{ unix atomic.Int64 }

func newClock() *clock               { c := &clock{}; c.unix.Store(1_000_000); return c }
func (c *clock) Now() time.Time      { return time.Unix(c.unix.Load(), 0) }
func (c *clock) Add(d time.Duration) { c.unix.Add(int64(d / time.Second)) }

// process is a Store as one server process has it: its own memory and
// its own lock handles (flock locks on separate open files exclude each
// other even within one OS process), over the shared backend.
func process(t *testing.T, c *clock, b Backend, lockDir string) *Store {
	t.Helper()
	locks, err := filelock.New(lockDir)
	if err != nil {
		t.Fatal(err)
	}
	return &Store{Now: c.Now, Backend: b, Locker: locks}
}

// lockDir is a private directory for lock files.
func lockDir(t *testing.T) string { return filepath.Join(t.TempDir(), "locks") }

var alice = Key{Provider: "corp", Issuer: "https://issuer.example", ClientID: "c", Subject: "alice"}

func TestStoreRestartStartsLoggedIn(t *testing.T) {
	c, b, dir := newClock(), &memBackend{}, lockDir(t)
	first := process(t, c, b, dir)
	tok := &provider.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: c.Now().Add(time.Hour), Scopes: []string{"read"}}
	if err := first.Save(context.Background(), alice, tok, "Alice A."); err != nil {
		t.Fatal(err)
	}
	issuer := &rotatingIssuer{now: c.Now, current: "rt-0"}

	restarted := process(t, c, b, dir)
	acct, err := restarted.Lookup(context.Background(), Key{Provider: "corp", Issuer: alice.Issuer, ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if acct.Key != alice || acct.DisplayName != "Alice A." || !acct.Refreshable || !acct.Expiry.Equal(tok.Expiry) {
		t.Fatalf("Lookup = %+v", acct)
	}
	got, err := restarted.Token(context.Background(), acct.Key, issuer)
	if err != nil || got.AccessToken != "at-0" || got.Scopes[0] != "read" {
		t.Fatalf("Token after restart = %v, %v", got, err)
	}
	if calls, _ := issuer.counts(); calls != 0 {
		t.Fatalf("%d refreshes for a valid stored token, want 0", calls)
	}
	// Expired on restart: one refresh with the stored refresh token.
	c.Add(2 * time.Hour)
	again := process(t, c, b, dir)
	if got, err := again.Token(context.Background(), alice, issuer); err != nil || got.AccessToken != "at-1" {
		t.Fatalf("Token after an expired restart = %v, %v", got, err)
	}
	// A Key with another client never reaches alice's record.
	if _, err := again.Lookup(context.Background(), Key{Provider: "corp", Issuer: alice.Issuer, ClientID: "other"}); !errors.Is(err, provider.ErrNoToken) {
		t.Fatalf("Lookup for another client: %v, want ErrNoToken", err)
	}
}

// TestStoreRotationAcrossProcesses: processes with the same expired token
// refresh concurrently; the issuer revokes a refresh token once used. One
// request is made and nobody sends the revoked token (no invalid_grant).
func TestStoreRotationAcrossProcesses(t *testing.T) {
	c, b, dir := newClock(), &memBackend{}, lockDir(t)
	issuer := &rotatingIssuer{now: c.Now, current: "rt-0"}
	tok := &provider.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: c.Now().Add(time.Hour)}
	if err := process(t, c, b, dir).Save(context.Background(), alice, tok, "alice"); err != nil {
		t.Fatal(err)
	}
	// Every process holds rt-0 in memory, then the token expires for all.
	procs := []*Store{process(t, c, b, dir), process(t, c, b, dir), process(t, c, b, dir)}
	for _, p := range procs {
		if _, err := p.Token(context.Background(), alice, issuer); err != nil {
			t.Fatal(err)
		}
	}
	c.Add(2 * time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for _, p := range procs {
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, err := p.Token(context.Background(), alice, issuer)
				if err == nil && tok.AccessToken != "at-1" {
					err = fmt.Errorf("got %s, want at-1", tok.AccessToken)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if calls, refused := issuer.counts(); calls != 1 || refused != 0 {
		t.Fatalf("%d refresh requests (%d refused) for 3 processes, want 1 (0)", calls, refused)
	}

	// Sequentially: A refreshes (rotating), then B, whose memory still
	// holds the revoked refresh token, refreshes at its next expiry.
	a, bb := procs[0], procs[1]
	c.Add(2 * time.Hour)
	if tok, err := a.Token(context.Background(), alice, issuer); err != nil || tok.AccessToken != "at-2" {
		t.Fatalf("A: %v, %v", tok, err)
	}
	if tok, err := bb.Token(context.Background(), alice, issuer); err != nil || tok.AccessToken != "at-2" {
		t.Fatalf("B after A's rotation: %v, %v (want A's token, no new request)", tok, err)
	}
	c.Add(2 * time.Hour)
	if tok, err := bb.Token(context.Background(), alice, issuer); err != nil || tok.AccessToken != "at-3" {
		t.Fatalf("B: %v, %v", tok, err)
	}
	if tok, err := a.Token(context.Background(), alice, issuer); err != nil || tok.AccessToken != "at-3" {
		t.Fatalf("A after B's rotation: %v, %v", tok, err)
	}
	if calls, refused := issuer.counts(); calls != 3 || refused != 0 {
		t.Fatalf("%d refresh requests (%d refused), want 3 (0)", calls, refused)
	}
}

func TestStoreLogoutReachesOtherProcesses(t *testing.T) {
	c, b, dir := newClock(), &memBackend{}, lockDir(t)
	issuer := &rotatingIssuer{now: c.Now, current: "rt-0"}
	a, other := process(t, c, b, dir), process(t, c, b, dir)
	tok := &provider.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: c.Now().Add(time.Hour)}
	if err := a.Save(context.Background(), alice, tok, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Token(context.Background(), alice, issuer); err != nil {
		t.Fatal(err)
	}
	if err := a.Remove(context.Background(), alice); err != nil {
		t.Fatal(err)
	}
	c.Add(2 * time.Hour)
	if _, err := other.Token(context.Background(), alice, issuer); !errors.Is(err, provider.ErrNoToken) {
		t.Fatalf("after a logout elsewhere: %v, want ErrNoToken", err)
	}
	if calls, _ := issuer.counts(); calls != 0 {
		t.Fatalf("a logged-out token was refreshed (%d requests)", calls)
	}
	if accts, err := a.Accounts(context.Background()); err != nil || len(accts) != 0 {
		t.Fatalf("Accounts after logout = %v, %v", accts, err)
	}
}

func TestStoreRefusedRefreshDropsStoredLogin(t *testing.T) {
	c, b, dir := newClock(), &memBackend{}, lockDir(t)
	issuer := &rotatingIssuer{now: c.Now, current: "revoked-by-the-admin"}
	s := process(t, c, b, dir)
	if err := s.Save(context.Background(), alice, &provider.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: c.Now().Add(-time.Minute)}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(context.Background(), alice, issuer); !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("err = %v, want invalid_grant", err)
	}
	if _, err := b.Load(context.Background(), alice); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stored login kept after invalid_grant: %v", err)
	}
}

// TestStoreUnusableRecords: a damaged record, another key's record and one
// of an unknown format version are refused with typed errors, never used,
// never a panic; the first two are dropped, the last is left to the newer
// build that wrote it.
func TestStoreUnusableRecords(t *testing.T) {
	bob := alice
	bob.Issuer = "https://evil.example"
	bobRecord, err := EncodeRecord(NewRecord(bob, &provider.Token{AccessToken: "stolen"}, "", time.Time{}, time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     []byte
		want     error
		wantKept bool
	}{
		{"garbage", []byte("\x00\xffnot json"), ErrCorrupt, false},
		{"wrong field type", []byte(`{"v":1,"key":{"provider":"corp"},"expiry":17}`), ErrCorrupt, false},
		{"another key", bobRecord, ErrKeyMismatch, false},
		{"newer version", []byte(`{"v":2,"whatever":true}`), ErrFormatVersion, true},
		{"no version", []byte(`{}`), ErrFormatVersion, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &memBackend{records: map[Key][]byte{alice: tt.data}}
			s := &Store{Now: newClock().Now, Backend: b, Locker: &processLocks{}}
			tok, err := s.Token(context.Background(), alice, nil)
			if !errors.Is(err, provider.ErrNoToken) || !errors.Is(err, tt.want) {
				t.Fatalf("Token = %v, %v; want ErrNoToken and %v", tok, err, tt.want)
			}
			if strings.Contains(err.Error(), "stolen") || strings.Contains(err.Error(), "evil") {
				t.Errorf("error quotes the record: %v", err)
			}
			b.mu.Lock()
			_, kept := b.records[alice]
			b.mu.Unlock()
			if kept != tt.wantKept {
				t.Errorf("record kept = %v, want %v", kept, tt.wantKept)
			}
		})
	}
}

// TestStoreLoginLock: a second process waits on the login lock while the
// first logs in, then finds its login instead of prompting again.
func TestStoreLoginLock(t *testing.T) {
	c, b, dir := newClock(), &memBackend{}, lockDir(t)
	first, second := process(t, c, b, dir), process(t, c, b, dir)
	client := alice
	client.Subject = ""
	unlock, err := first.LockLogin(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	found := make(chan error, 1)
	go func() {
		unlock, err := second.LockLogin(context.Background(), client)
		if err != nil {
			found <- err
			return
		}
		defer unlock()
		acct, err := second.Lookup(context.Background(), client)
		if err == nil {
			_, err = second.Token(context.Background(), acct.Key, nil)
		}
		found <- err
	}()
	select {
	case err := <-found:
		t.Fatalf("the second process did not wait for the login: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	// The user approves the one prompt; the first process stores the login.
	if err := first.Save(context.Background(), alice, &provider.Token{AccessToken: "at-0"}, ""); err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := <-found; err != nil {
		t.Fatalf("second process after the first's login: %v", err)
	}
	// A bounded wait: a held lock makes LockLogin fail at the deadline.
	hold, err := first.LockLogin(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := second.LockLogin(ctx, client); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockLogin on a held lock: %v, want the deadline", err)
	}
}

func TestRecordKeepsSecretsOut(t *testing.T) {
	r := NewRecord(alice, &provider.Token{AccessToken: "secret-at", RefreshToken: "secret-rt", Scopes: []string{"read"}}, "Alice", time.Time{}, time.Time{})
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "record", r, "ptr", r)
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprint(r), fmt.Sprintf("%+v %#v %s", r, *r, r), logged.String(), string(js)} {
		if strings.Contains(out, "secret-") {
			t.Errorf("a secret is shown: %s", out)
		}
	}
	enc, err := EncodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeRecord(enc)
	if err != nil || back.RefreshToken != "secret-rt" || back.AccessToken != "secret-at" || back.Check(alice) != nil {
		t.Fatalf("round trip: %v, %v", back, err)
	}
}
