// Package filelock provides named locks shared by every process of one
// user: one flock(2) lock file (LockFileEx on Windows) per name, through
// github.com/gofrs/flock. The operating system releases a lock when its
// holder dies, so a crashed process never blocks the others; a wait is
// bounded by its context.
//
// A Store (package tokenstore) uses these locks so that every server
// process of a user shares one refresh of a token and one login.
//
//	locks, err := filelock.Default()
//	unlock, err := locks.Lock(ctx, "refresh github …")
//	defer unlock()
package filelock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// retryDelay is how often a waiting Lock tries again. flock has no
// blocking call with a deadline, so a bounded wait polls; 25 ms keeps a
// handover quick without spinning.
const retryDelay = 25 * time.Millisecond

var (
	// ErrTimeout: the lock was not had before the context ended (another
	// process holds it).
	ErrTimeout = errors.New("filelock: the lock is held by another process and was not released in time")
	// ErrPermissions: the lock directory is open to other users, who could
	// then hold the user's locks.
	ErrPermissions = errors.New("filelock: the lock directory is accessible to other users")
)

// Locks is a directory of lock files. It is safe for concurrent use: a
// name is held by at most one goroutine of the process (an in-process
// mutex) and one process of the user (the lock file) at a time.
type Locks struct {
	dir string

	mu   sync.Mutex
	held map[string]chan struct{} // one-slot semaphores, per name
}

// DefaultDir is $XDG_RUNTIME_DIR/mcpauth when XDG_RUNTIME_DIR is set (a
// per-user tmpfs on Linux), else os.UserCacheDir()/mcpauth/locks.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "mcpauth"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("filelock: no directory for lock files: %w", err)
	}
	return filepath.Join(d, "mcpauth", "locks"), nil
}

// Default is New(DefaultDir()).
func Default() (*Locks, error) {
	d, err := DefaultDir()
	if err != nil {
		return nil, err
	}
	return New(d)
}

// New returns the locks kept in dir, creating it with mode 0700. It
// refuses a directory that other users may enter (ErrPermissions).
func New(dir string) (*Locks, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("filelock: %w", err)
	}
	if err := CheckPrivate(dir); err != nil {
		return nil, err
	}
	return &Locks{dir: dir, held: make(map[string]chan struct{})}, nil
}

// CheckPrivate fails when path is open to other users (group or other
// permission bits set), naming the path and its mode. Windows has no such
// bits; there it checks only that path exists.
func CheckPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("filelock: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; run chmod 700 %s", ErrPermissions, path, fi.Mode().Perm(), path)
	}
	return nil
}

// Path is the lock file for name: a hash of it, since names hold URLs.
func (l *Locks) Path(name string) string {
	sum := sha256.Sum256([]byte(name))
	return filepath.Join(l.dir, hex.EncodeToString(sum[:16])+".lock")
}

// Lock takes the lock name, waiting until ctx is done at most. It fails
// with an error matching ErrTimeout (and ctx's error) when the wait ends.
func (l *Locks) Lock(ctx context.Context, name string) (func(), error) {
	l.mu.Lock()
	sem, ok := l.held[name]
	if !ok {
		sem = make(chan struct{}, 1)
		l.held[name] = sem
	}
	l.mu.Unlock()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	f := flock.New(l.Path(name))
	ok, err := f.TryLockContext(ctx, retryDelay)
	if !ok || err != nil {
		<-sem
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%w: %w", ErrTimeout, ctxErr)
		}
		return nil, fmt.Errorf("filelock: %s: %w", f.Path(), err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// The lock file stays: removing it would race with a process
			// that opened it and is about to lock it.
			_ = f.Unlock()
			<-sem
		})
	}, nil
}
