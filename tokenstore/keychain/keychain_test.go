package keychain_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/secretservice"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
	"github.com/mcpauth/mcpauth/tokenstore/filelock"
	"github.com/mcpauth/mcpauth/tokenstore/filestore"
	"github.com/mcpauth/mcpauth/tokenstore/keychain"
	"github.com/zalando/go-keyring"
)

// noSecretService says why the keychain tests skip; "" when a private
// Secret Service runs for them.
var noSecretService string

// TestMain starts a private Secret Service (GNOME Keyring on a D-Bus
// session bus of its own) for the whole package: go-keyring shares one
// session-bus connection per process. Where none can be started the tests
// skip loudly, except under CI=true, where that is a failure.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ss") // short: a socket path is at most 108 bytes
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	svc, err := secretservice.Start(ctx, dir)
	cancel()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "keychain tests: FAIL: no Secret Service could be started under CI=true: %v\n", err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
		noSecretService = err.Error()
		fmt.Fprintf(os.Stderr, "\n!!!!!!!! keychain tests SKIPPED: no Secret Service: %v !!!!!!!!\n\n", err)
	} else {
		os.Setenv("DBUS_SESSION_BUS_ADDRESS", svc.Address)
	}
	code := m.Run()
	if svc != nil {
		svc.Close()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func newKeychain(t *testing.T, service string) *keychain.Keychain {
	t.Helper()
	if noSecretService != "" {
		t.Skip("NO SECRET SERVICE, keychain not tested: " + noSecretService)
	}
	locks, err := filelock.New(filepath.Join(t.TempDir(), "locks"))
	if err != nil {
		t.Fatal(err)
	}
	kc, err := keychain.New(keychain.Config{Service: service, Locker: locks})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := kc.Probe(ctx); err != nil {
		t.Fatalf("Probe on the private Secret Service: %v", err)
	}
	return kc
}

func key(subject string) tokenstore.Key {
	return tokenstore.Key{Provider: "corp", Issuer: "https://issuer.example", ClientID: "c", Subject: subject}
}

func TestKeychainThroughStore(t *testing.T) {
	kc := newKeychain(t, t.Name())
	ctx := context.Background()
	now := time.Unix(1_000_000, 0)
	s := &tokenstore.Store{Backend: kc, Locker: locks(t), Now: func() time.Time { return now }}
	tok := &provider.Token{AccessToken: "at-secret", RefreshToken: "rt-secret", Expiry: now.Add(time.Hour), Scopes: []string{"read"}}
	if err := s.Save(ctx, key("alice"), tok, "Alice"); err != nil {
		t.Fatal(err)
	}
	restarted := &tokenstore.Store{Backend: newKeychain(t, t.Name()), Now: func() time.Time { return now }, Locker: locks(t)}
	acct, err := restarted.Lookup(ctx, key(""))
	if err != nil || acct.Key != key("alice") || acct.DisplayName != "Alice" {
		t.Fatalf("Lookup after restart = %+v, %v", acct, err)
	}
	got, err := restarted.Token(ctx, acct.Key, nil)
	if err != nil || got.AccessToken != "at-secret" || got.RefreshToken != "rt-secret" {
		t.Fatalf("Token after restart = %v, %v", got, err)
	}
	if err := restarted.Remove(ctx, acct.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Load(ctx, acct.Key); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatalf("Load after Remove: %v", err)
	}
	if keys, err := kc.List(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("List after Remove = %v, %v", keys, err)
	}
}

// locks is a private lock directory.
func locks(t *testing.T) *filelock.Locks {
	t.Helper()
	l, err := filelock.New(filepath.Join(t.TempDir(), "locks"))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestKeychainIndexAcrossProcesses: keychains with their own lock handles
// over one lock directory (separate processes, as flock sees them) save
// different logins at once; the index keeps every one.
func TestKeychainIndexAcrossProcesses(t *testing.T) {
	if noSecretService != "" {
		t.Skip("NO SECRET SERVICE, keychain not tested: " + noSecretService)
	}
	dir := filepath.Join(t.TempDir(), "locks")
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		locks, err := filelock.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		kc, err := keychain.New(keychain.Config{Service: t.Name(), Locker: locks})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := tokenstore.NewRecord(key(fmt.Sprint("user", i)), &provider.Token{AccessToken: "at"}, "", time.Time{}, time.Time{})
			errs <- kc.Save(ctx, r)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	keys, err := newKeychain(t, t.Name()).List(ctx)
	if err != nil || len(keys) != 8 {
		t.Fatalf("List = %d keys, %v; want 8", len(keys), err)
	}
}

func TestKeychainRefusesUnusableEntries(t *testing.T) {
	kc := newKeychain(t, t.Name())
	ctx := context.Background()
	// Another login's record under alice's entry (copied there by hand or
	// by a bug): never used for alice.
	if err := kc.Save(ctx, tokenstore.NewRecord(key("bob"), &provider.Token{AccessToken: "bobs"}, "", time.Time{}, time.Time{})); err != nil {
		t.Fatal(err)
	}
	bobs, err := keyringEntry(t, key("bob"))
	if err != nil {
		t.Fatal(err)
	}
	setEntry(t, key("alice"), bobs)
	if _, err := kc.Load(ctx, key("alice")); !errors.Is(err, tokenstore.ErrKeyMismatch) {
		t.Fatalf("another login's record: %v, want ErrKeyMismatch", err)
	}
	setEntry(t, key("alice"), "{not json")
	if _, err := kc.Load(ctx, key("alice")); !errors.Is(err, tokenstore.ErrCorrupt) {
		t.Fatalf("a damaged entry: %v, want ErrCorrupt", err)
	}
	s := &tokenstore.Store{Backend: kc, Locker: locks(t)}
	if _, err := s.Token(ctx, key("alice"), nil); !errors.Is(err, provider.ErrNoToken) {
		t.Fatalf("Token over a damaged entry: %v, want ErrNoToken", err)
	}
	if _, err := kc.Load(ctx, key("alice")); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatalf("the damaged entry was not dropped: %v", err)
	}
}

// TestFilestoreKeyInKeychain: the file backend keeps its encryption key
// in a reachable keychain and writes no key file.
func TestFilestoreKeyInKeychain(t *testing.T) {
	kc := newKeychain(t, t.Name())
	dir := filepath.Join(t.TempDir(), "tokens")
	ctx := context.Background()
	f, err := filestore.New(ctx, filestore.Config{Dir: dir, Keychain: kc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key file beside a reachable keychain: %v", err)
	}
	if _, err := kc.GetSecret(ctx, "filestore encryption key"); err != nil {
		t.Fatalf("the key is not in the keychain: %v", err)
	}
	if err := f.Save(ctx, tokenstore.NewRecord(key("alice"), &provider.Token{AccessToken: "at"}, "", time.Time{}, time.Time{})); err != nil {
		t.Fatal(err)
	}
	again, err := filestore.New(ctx, filestore.Config{Dir: dir, Keychain: kc})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := again.Load(ctx, key("alice")); err != nil || r.AccessToken != "at" {
		t.Fatalf("reopened: %v", err)
	}
}

// keyringEntry and setEntry reach the entry behind the backend, as a user
// with a keychain browser could.
func keyringEntry(t *testing.T, k tokenstore.Key) (string, error) {
	t.Helper()
	return keyring.Get(t.Name(), keychain.EntryName(k))
}

func setEntry(t *testing.T, k tokenstore.Key, v string) {
	t.Helper()
	if err := keyring.Set(t.Name(), keychain.EntryName(k), v); err != nil {
		t.Fatal(err)
	}
}
