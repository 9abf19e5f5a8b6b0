package tokenstore

import (
	"context"
	"errors"
	"fmt"
)

var (
	// ErrRefreshTransient: the refresh got no answer (a timeout, a reset
	// connection, an HTTP 5xx: provider.IsTransient), or the lock shared
	// with other processes could not be had in time; the token is kept and
	// the next call tries the refresh again. No login is needed.
	ErrRefreshTransient = errors.New("tokenstore: refresh failed transiently; the token is kept and the next call retries")
	// ErrNotFound: a Backend holds no record for the key. Backends return
	// it (wrapped or not) from Load.
	ErrNotFound = errors.New("tokenstore: no stored login")
	// ErrCorrupt: a stored record could not be read back: it is damaged or
	// was tampered with (an encrypted record failed authentication). The
	// Store drops it; the user logs in again.
	ErrCorrupt = errors.New("tokenstore: the stored login is damaged or was tampered with and was dropped; log in again")
	// ErrKeyMismatch: a stored record belongs to another provider, issuer,
	// client or user than the one it was read for. It is never used: a
	// credential goes only to the issuer and client that issued it.
	ErrKeyMismatch = errors.New("tokenstore: the stored login belongs to another issuer, client or user and was not used")
	// ErrFormatVersion: a stored record has a format version this build
	// does not read (a newer mcpauth wrote it). See VersionError.
	ErrFormatVersion = errors.New("tokenstore: the stored login has an unknown format version")
)

// VersionError: a stored record's format version is not RecordVersion.
type VersionError struct {
	Got int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("tokenstore: the stored login has format version %d, this build reads version %d; log in again or use a newer mcpauth", e.Got, RecordVersion)
}

// Is makes a VersionError match ErrFormatVersion.
func (e *VersionError) Is(target error) bool { return target == ErrFormatVersion }

// Backend persists records across restarts and shares them between the
// processes of one user. A Store consults it on a memory miss, writes to
// it on every login and refresh, and deletes from it on logout; without
// one, tokens live in memory only (the default).
//
// Implementations must be safe for concurrent use by goroutines and by
// processes: each operation is atomic on its own (a reader sees the old
// record or the new one, never half of one). The Store serializes writers
// for a key with its Locker.
type Backend interface {
	// Load returns the record for k. It fails with an error matching
	// ErrNotFound when there is none, ErrCorrupt when the record cannot be
	// read back, a *VersionError for another format version, and
	// ErrKeyMismatch when the stored record names another key.
	Load(ctx context.Context, k Key) (*Record, error)
	// Save stores r under r.Key, replacing any record there.
	Save(ctx context.Context, r *Record) error
	// Delete removes the record for k; a missing record is not an error.
	Delete(ctx context.Context, k Key) error
	// List returns the keys of the stored records, in no particular order.
	List(ctx context.Context) ([]Key, error)
}

// Locker provides named locks held across processes of one user (and
// across goroutines of one process). Lock blocks until the lock is had or
// ctx is done, and returns the function that releases it. A lock held by
// a process that dies is released: a crashed holder never blocks others.
//
// tokenstore/filelock is the implementation a Store uses by default.
type Locker interface {
	Lock(ctx context.Context, name string) (unlock func(), err error)
}
