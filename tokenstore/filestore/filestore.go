// Package filestore is a tokenstore.Backend for machines without an OS
// keychain, when the user chose "file": one file per login in a directory
// only the user may enter, each encrypted with AES-256-GCM. Tokens are
// never written in plaintext.
//
// The encryption key is kept in the OS keychain when one is reachable
// (Config.Keychain), else in a key file beside the records, mode 0600 in
// a directory of mode 0700. With a key file the protection is the file
// permissions, as for an SSH key; the encryption still keeps tokens out
// of anything that copies the records alone (a backup of part of the
// home directory, a pasted file) and detects a damaged or altered record.
//
// A record file is
//
//	"MCPAUTH" version(1 byte) len(2 bytes, big-endian) key-JSON nonce(12) ciphertext
//
// where key-JSON names the login (provider, issuer, client, subject: no
// secret, so List can read it) and everything before the nonce is the
// GCM additional data: a record moved to another login's file, or with
// its key edited, fails authentication. Each write draws a fresh random
// nonce and replaces the file atomically (a temporary file, then rename).
package filestore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mcpauth/mcpauth/tokenstore"
	"github.com/mcpauth/mcpauth/tokenstore/filelock"
)

const (
	magic       = "MCPAUTH"
	fileVersion = 1
	keyFileName = "key"
	recordExt   = ".token"
	// keychainName is the keychain entry holding the encryption key.
	keychainName = "filestore encryption key"
	keySize      = 32 // AES-256
	nonceSize    = 12 // GCM's standard nonce
)

var (
	// ErrPermissions: the directory or key file is open to other users.
	ErrPermissions = errors.New("filestore: permissions too open")
	// ErrNoKey: records exist but their key is in neither the key file nor
	// a reachable keychain; they cannot be read.
	ErrNoKey = errors.New("filestore: the encryption key of the stored logins is not reachable")
)

// KeyKeeper keeps the encryption key in an OS keychain;
// *keychain.Keychain is one. GetSecret fails with an error matching
// tokenstore.ErrNotFound when there is no such entry.
type KeyKeeper interface {
	GetSecret(ctx context.Context, name string) (string, error)
	SetSecret(ctx context.Context, name, value string) error
}

// Config says where the records and their key are.
type Config struct {
	// Dir holds the records (and the key file); "" means DefaultDir().
	// It is created with mode 0700; an existing one open to other users
	// is refused.
	Dir string
	// Keychain, when set and reachable, keeps the encryption key instead
	// of a key file. A key file already in Dir is used in any case.
	Keychain KeyKeeper
}

// Files is the Backend. It is safe for concurrent use.
type Files struct {
	dir  string
	aead cipher.AEAD
}

var _ tokenstore.Backend = (*Files)(nil)

// DefaultDir is os.UserConfigDir()/mcpauth/tokens.
func DefaultDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("filestore: no directory for the token files: %w", err)
	}
	return filepath.Join(d, "mcpauth", "tokens"), nil
}

// New opens (creating if needed) the records directory and its key.
func New(ctx context.Context, cfg Config) (*Files, error) {
	dir := cfg.Dir
	if dir == "" {
		var err error
		if dir, err = DefaultDir(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	if err := checkMode(dir, 0o700); err != nil {
		return nil, err
	}
	// Two processes starting at once must not make two keys.
	locks, err := filelock.New(dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	unlock, err := locks.Lock(ctx, "filestore key")
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	key, err := loadKey(ctx, dir, cfg.Keychain)
	unlock()
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	return &Files{dir: dir, aead: aead}, nil
}

// checkMode refuses path when it grants anything to group or others,
// naming the path, its mode and the fix. Windows has no such bits.
func checkMode(path string, want fs.FileMode) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o, it must be %04o (readable by you only): chmod %o %s",
			ErrPermissions, path, fi.Mode().Perm(), want, want, path)
	}
	return nil
}

// loadKey returns the key file's key if there is one, else the keychain's
// (created there if absent), else a new key file's.
func loadKey(ctx context.Context, dir string, kc KeyKeeper) ([]byte, error) {
	path := filepath.Join(dir, keyFileName)
	if _, err := os.Stat(path); err == nil {
		if err := checkMode(path, 0o600); err != nil {
			return nil, err
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("filestore: %w", err)
		}
		return decodeKey(path, string(text))
	}
	var kcErr error
	if kc != nil {
		text, err := kc.GetSecret(ctx, keychainName)
		if err == nil {
			return decodeKey("the keychain entry "+keychainName, text)
		}
		if errors.Is(err, tokenstore.ErrNotFound) {
			key := newKey()
			if err = kc.SetSecret(ctx, keychainName, base64.StdEncoding.EncodeToString(key)); err == nil {
				return key, nil
			}
		}
		kcErr = err
	}
	if records, _ := filepath.Glob(filepath.Join(dir, "*"+recordExt)); len(records) > 0 {
		// A new key file would silently orphan them.
		if kcErr != nil {
			return nil, fmt.Errorf("%w: %s has no key file and the keychain is unreachable: %w", ErrNoKey, dir, kcErr)
		}
		return nil, fmt.Errorf("%w: %s has no key file; delete its %s files to start afresh", ErrNoKey, dir, recordExt)
	}
	key := newKey()
	if err := writeFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n")); err != nil {
		return nil, err
	}
	return key, nil
}

func newKey() []byte {
	key := make([]byte, keySize)
	rand.Read(key) // never fails (crypto/rand, Go 1.24+)
	return key
}

func decodeKey(where, text string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(key) != keySize {
		return nil, fmt.Errorf("%w: %s does not hold a %d-byte base64 key", ErrNoKey, where, keySize)
	}
	return key, nil
}

// path is k's record file: a hash of the key, which holds URLs.
func (f *Files) path(k tokenstore.Key) string {
	sum := sha256.Sum256([]byte(k.Provider + "\x00" + k.Issuer + "\x00" + k.ClientID + "\x00" + k.Subject))
	return filepath.Join(f.dir, hex.EncodeToString(sum[:16])+recordExt)
}

// Save encrypts r and replaces k's file atomically.
func (f *Files) Save(_ context.Context, r *tokenstore.Record) error {
	plain, err := tokenstore.EncodeRecord(r)
	if err != nil {
		return err
	}
	keyJSON, err := json.Marshal(r.Key)
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	if len(keyJSON) > 0xffff {
		return fmt.Errorf("filestore: %s: the login's key is too long", r.Key)
	}
	head := make([]byte, 0, len(magic)+3+len(keyJSON))
	head = append(head, magic...)
	head = append(head, fileVersion)
	head = binary.BigEndian.AppendUint16(head, uint16(len(keyJSON)))
	head = append(head, keyJSON...)
	nonce := make([]byte, nonceSize)
	rand.Read(nonce)
	out := append(append(head, nonce...), f.aead.Seal(nil, nonce, plain, head)...)
	return writeFile(f.path(r.Key), out)
}

// Load reads and decrypts k's record.
func (f *Files) Load(_ context.Context, k tokenstore.Key) (*tokenstore.Record, error) {
	data, err := os.ReadFile(f.path(k))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, tokenstore.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	r, err := f.open(data)
	if err != nil {
		return nil, fmt.Errorf("filestore: %s: %w", f.path(k), err)
	}
	if err := r.Check(k); err != nil {
		return nil, fmt.Errorf("filestore: %s: %w", f.path(k), err)
	}
	return r, nil
}

// open parses and decrypts one record file.
func (f *Files) open(data []byte) (*tokenstore.Record, error) {
	if len(data) < len(magic)+3 || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not an mcpauth token file", tokenstore.ErrCorrupt)
	}
	if v := data[len(magic)]; v != fileVersion {
		return nil, &tokenstore.VersionError{Got: int(v)}
	}
	n := int(binary.BigEndian.Uint16(data[len(magic)+1:]))
	headLen := len(magic) + 3 + n
	if len(data) < headLen+nonceSize+f.aead.Overhead() {
		return nil, fmt.Errorf("%w: the file is truncated", tokenstore.ErrCorrupt)
	}
	head, nonce, sealed := data[:headLen], data[headLen:headLen+nonceSize], data[headLen+nonceSize:]
	plain, err := f.aead.Open(nil, nonce, sealed, head)
	if err != nil {
		return nil, fmt.Errorf("%w: it failed authentication (AES-GCM)", tokenstore.ErrCorrupt)
	}
	r, err := tokenstore.DecodeRecord(plain)
	if err != nil {
		return nil, err
	}
	var named tokenstore.Key
	if err := json.Unmarshal(head[len(magic)+3:], &named); err != nil || named != r.Key {
		return nil, fmt.Errorf("%w: the file's header names another login than its record", tokenstore.ErrKeyMismatch)
	}
	return r, nil
}

// Delete removes k's file; a missing one is not an error.
func (f *Files) Delete(_ context.Context, k tokenstore.Key) error {
	if err := os.Remove(f.path(k)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}

// List reads the logins named by the record files. A file that is not a
// record is skipped: Load reports it for its key.
func (f *Files) List(context.Context) ([]tokenstore.Key, error) {
	paths, err := filepath.Glob(filepath.Join(f.dir, "*"+recordExt))
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	var keys []tokenstore.Key
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if r, err := f.open(data); err == nil && f.path(r.Key) == p {
			keys = append(keys, r.Key)
		}
	}
	return keys, nil
}

// writeFile writes data to path atomically with mode 0600: a reader sees
// the old file or the new one, never a part.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("filestore: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("filestore: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("filestore: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}
