// Package tokenstore keeps the tokens of logged-in users and refreshes
// them on demand (RFC 6749 §6), single-flight per key.
//
// By default tokens live in memory only, as SEP-2059 asks of stdio
// servers: a Store without a Backend never writes them anywhere. Keeping
// logins across restarts, and sharing one login between every server
// process of a user, is an explicit opt-in: set Store.Backend to
//
//   - keychain.New: the OS keychain (Secret Service on Linux, Keychain on
//     macOS, Credential Manager on Windows) through
//     github.com/zalando/go-keyring, chosen because it needs no cgo
//     anywhere (pure-Go D-Bus; /usr/bin/security; wincred syscalls),
//     where 99designs/keyring's macOS backend needs cgo. It has no list
//     call, so the backend keeps an index entry;
//   - filestore.New: AES-256-GCM files in a 0700 directory, for machines
//     without a keychain, when the user chose "file"; the key is in the
//     keychain when one is reachable, else in a 0600 key file.
//
// # What is stored
//
// A Record: format version, the Key it belongs to (checked on every load:
// a record is never used for another issuer, client or user), refresh
// token, access token with its expiry, scopes, display name, login time.
// Not the ID token. The access token is kept because that is what lets
// processes share one refresh: whoever refreshes first stores the new
// access token, the others use it instead of refreshing again (see
// Record). Damaged or tampered records are dropped and the caller gets
// provider.ErrNoToken (log in again); a record of an unknown format
// version is refused (ErrFormatVersion) but left for the newer build.
//
// # Across processes
//
// With a Backend, Store.Locker (default filelock.Default(): flock files in
// $XDG_RUNTIME_DIR/mcpauth, else the user cache dir) serializes refreshes
// per key across processes. Under the lock the Store re-reads the record:
// if another process refreshed meanwhile, its token is used; if it only
// rotated the refresh token, the rotated one is sent. So refresh-token
// rotation never loses a token and N processes cause one refresh. A
// logout (Remove) deletes the record; other processes stop at their next
// refresh. The OS releases a dead holder's lock.
//
// # How the SDK uses it
//
// The subject of a Key is known only after a login. At start-up, and
// before showing a login prompt, the SDK holds the login lock and looks
// for a login another process stored:
//
//	client := tokenstore.Key{Provider: name, Issuer: meta.Issuer, ClientID: clientID}
//	unlock, err := store.LockLogin(ctx, client) // a second process waits here
//	if err != nil { … }
//	defer unlock()
//	if acct, err := store.Lookup(ctx, client); err == nil {
//		if tok, err := store.Token(ctx, acct.Key, refresher); err == nil {
//			… logged in as acct.DisplayName: no prompt …
//		}
//	}
//	… run the login, then:
//	err = store.Save(ctx, key, tok, displayName) // an error: logged in, not persisted
//
// Two server processes started at once then show one prompt; the second
// finds the first's token when the lock is released. Token then works as
// before: it loads a memory miss from the Backend and refreshes under the
// lock. Use Save and Remove (which return the backend's error) rather
// than Put and Delete (which log it) where a context is at hand.
// Accounts lists every login for `mcpauth status`, never a token.
package tokenstore
