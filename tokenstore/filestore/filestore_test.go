package filestore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
	"github.com/mcpauth/mcpauth/tokenstore/filelock"
	"github.com/mcpauth/mcpauth/tokenstore/filestore"
)

var alice = tokenstore.Key{Provider: "corp", Issuer: "https://issuer.example", ClientID: "c", Subject: "alice@example.com"}

func open(t *testing.T, dir string) *filestore.Files {
	t.Helper()
	f, err := filestore.New(context.Background(), filestore.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func store(t *testing.T, b tokenstore.Backend, now time.Time) *tokenstore.Store {
	t.Helper()
	locks, err := filelock.New(filepath.Join(t.TempDir(), "locks"))
	if err != nil {
		t.Fatal(err)
	}
	return &tokenstore.Store{Backend: b, Locker: locks, Now: func() time.Time { return now }}
}

func TestFilesRestartAndNoPlaintext(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	now := time.Unix(1_000_000, 0)
	secrets := []string{"access-token-one", "refresh-token-one", "access-token-two", "refresh-token-two"}
	s := store(t, open(t, dir), now)
	ctx := context.Background()
	if err := s.Save(ctx, alice, &provider.Token{AccessToken: secrets[0], RefreshToken: secrets[1], Expiry: now.Add(-time.Minute)}, "Alice"); err != nil {
		t.Fatal(err)
	}
	bob := alice
	bob.Subject = "bob"
	if err := s.Save(ctx, bob, &provider.Token{AccessToken: secrets[2], RefreshToken: secrets[3]}, ""); err != nil {
		t.Fatal(err)
	}

	for _, mode := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {filepath.Join(dir, "key"), 0o600}} {
		fi, err := os.Stat(mode.path)
		if err != nil || fi.Mode().Perm() != mode.want {
			t.Errorf("%s: mode %v, %v; want %04o", mode.path, fi.Mode().Perm(), err, mode.want)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".token") {
			records++
		}
		for _, secret := range secrets {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds the token %q in plaintext", e.Name(), secret)
			}
		}
	}
	if records != 2 {
		t.Errorf("%d record files, want 2", records)
	}

	// A restarted process over the same directory: logged in, both users listed.
	restarted := store(t, open(t, dir), now)
	accts, err := restarted.Accounts(ctx)
	if err != nil || len(accts) != 2 || accts[0].Key != alice || accts[0].DisplayName != "Alice" || accts[1].Key != bob {
		t.Fatalf("Accounts = %+v, %v", accts, err)
	}
	tok, err := restarted.Token(ctx, bob, nil)
	if err != nil || tok.AccessToken != secrets[2] {
		t.Fatalf("Token after restart = %v, %v", tok, err)
	}
}

func TestFilesRefusesOpenPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	open(t, dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := filestore.New(context.Background(), filestore.Config{Dir: dir})
	if !errors.Is(err, filestore.ErrPermissions) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "0755") {
		t.Fatalf("open directory: %v; want ErrPermissions naming %s and 0755", err, dir)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = filestore.New(context.Background(), filestore.Config{Dir: dir})
	if !errors.Is(err, filestore.ErrPermissions) || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("open key file: %v; want ErrPermissions naming %s and 0644", err, key)
	}
}

// TestFilesTampering flips each byte of a record in turn: every change is
// refused with a typed error, never used, never a panic; through a Store
// the login is dropped and a new login asked for.
func TestFilesTampering(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	f := open(t, dir)
	ctx := context.Background()
	rec := tokenstore.NewRecord(alice, &provider.Token{AccessToken: "at", RefreshToken: "rt"}, "", time.Time{}, time.Time{})
	if err := f.Save(ctx, rec); err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.token"))
	if len(paths) != 1 {
		t.Fatalf("record files: %v", paths)
	}
	good, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x01
		if err := os.WriteFile(paths[0], bad, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := f.Load(ctx, alice)
		if err == nil {
			t.Fatalf("byte %d flipped: the record was accepted: %v", i, r)
		}
		if !errors.Is(err, tokenstore.ErrCorrupt) && !errors.Is(err, tokenstore.ErrFormatVersion) && !errors.Is(err, tokenstore.ErrKeyMismatch) {
			t.Fatalf("byte %d flipped: untyped error %v", i, err)
		}
	}
	// Through the Store: a clear error, the record dropped, log in again.
	bad := bytes.Clone(good)
	bad[len(bad)-5] ^= 0x80
	if err := os.WriteFile(paths[0], bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = store(t, f, time.Unix(0, 0)).Token(ctx, alice, nil)
	if !errors.Is(err, provider.ErrNoToken) || !errors.Is(err, tokenstore.ErrCorrupt) || !strings.Contains(err.Error(), "log in again") {
		t.Fatalf("Token over a tampered record: %v", err)
	}
	if _, err := os.Stat(paths[0]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("tampered record kept: %v", err)
	}
	// A truncated file is refused alike.
	if err := os.WriteFile(paths[0], good[:20], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load(ctx, alice); !errors.Is(err, tokenstore.ErrCorrupt) {
		t.Fatalf("truncated record: %v", err)
	}
}

func TestFilesMissingKeyIsAnError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	f := open(t, dir)
	if err := f.Save(context.Background(), tokenstore.NewRecord(alice, &provider.Token{AccessToken: "at"}, "", time.Time{}, time.Time{})); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "key")); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.New(context.Background(), filestore.Config{Dir: dir}); !errors.Is(err, filestore.ErrNoKey) {
		t.Fatalf("records without their key: %v, want ErrNoKey", err)
	}
}

// keyKeeper is a keychain holding the encryption key.
type keyKeeper struct {
	mu      sync.Mutex
	secrets map[string]string
	down    bool
}

func (k *keyKeeper) GetSecret(_ context.Context, name string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.down {
		return "", errors.New("test: no keychain")
	}
	v, ok := k.secrets[name]
	if !ok {
		return "", tokenstore.ErrNotFound
	}
	return v, nil
}

func (k *keyKeeper) SetSecret(_ context.Context, name, value string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.down {
		return errors.New("test: no keychain")
	}
	if k.secrets == nil {
		k.secrets = map[string]string{}
	}
	k.secrets[name] = value
	return nil
}

func TestFilesKeyInKeychain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	kc := &keyKeeper{}
	ctx := context.Background()
	f, err := filestore.New(ctx, filestore.Config{Dir: dir, Keychain: kc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key file was written although the keychain holds the key: %v", err)
	}
	if err := f.Save(ctx, tokenstore.NewRecord(alice, &provider.Token{AccessToken: "at"}, "", time.Time{}, time.Time{})); err != nil {
		t.Fatal(err)
	}
	again, err := filestore.New(ctx, filestore.Config{Dir: dir, Keychain: kc})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := again.Load(ctx, alice); err != nil || r.AccessToken != "at" {
		t.Fatalf("Load with the keychain's key: %v", err)
	}
	kc.down = true
	if _, err := filestore.New(ctx, filestore.Config{Dir: dir, Keychain: kc}); !errors.Is(err, filestore.ErrNoKey) {
		t.Fatalf("keychain unreachable, records present: %v, want ErrNoKey", err)
	}
	// No records and no keychain: a key file.
	other := filepath.Join(t.TempDir(), "tokens")
	if _, err := filestore.New(ctx, filestore.Config{Dir: other, Keychain: kc}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(other, "key")); err != nil {
		t.Fatalf("no key file without a keychain: %v", err)
	}
}
