package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mcpauth/mcpauth/internal/driverplugin"
)

// racyWindow is how long after a file's last change its identity is not
// trusted to stand for its content. File timestamps are taken from a coarse
// clock (a few milliseconds on Linux, seconds on some file systems), so a
// file rewritten twice within one tick, to the same size, keeps its
// identity: a copy verified between the two writes must not be reused for
// the second. Like git's "racily clean" rule, a file changed less than
// racyWindow before it was hashed is hashed again at its next start.
// A variable so that tests need not wait for it.
var racyWindow = 2 * time.Second

// pluginCacheDir is where verified copies of plugins are run from: a
// directory only this user can write (see verifiedCopy). It lives under
// os.UserCacheDir so that copies are reused across runs (they are named by
// checksum), or in a temporary directory when there is none. It is worked
// out at every plugin start (a stat and a mkdir): a process whose HOME
// changes, as tests' do, must not keep using a directory that is gone.
func pluginCacheDir() (string, error) {
	dir := ""
	if base, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(base, "mcpauth", "plugins")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			dir = ""
		}
	}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "mcpauth-plugins-"); err != nil {
			return "", fmt.Errorf("registry: creating a private directory for plugins: %w", err)
		}
	}
	// MkdirAll keeps the mode of a directory that exists: insist on 0700.
	if fi, err := os.Lstat(dir); err != nil {
		return "", fmt.Errorf("registry: plugin cache: %w", err)
	} else if !fi.IsDir() {
		return "", fmt.Errorf("registry: plugin cache %q is not a directory", dir)
	} else if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", fmt.Errorf("registry: plugin cache %q: %w", dir, err)
		}
	}
	if err := driverplugin.CheckNotWritableByOthers(dir); err != nil {
		return "", fmt.Errorf("registry: plugin cache: %w", err)
	}
	return dir, nil
}

// verifiedEntry records that the file Source, while it had identity
// SourceID, had the sha256 its copy is named by, and that the copy it was
// copied to had identity CopyID. It is kept beside the copy, in the private
// plugin cache, so that later starts, in this process or the next, need
// not read the plugin again while neither file has changed.
type verifiedEntry struct {
	Source   string
	SourceID fileID
	CopyID   fileID
}

// entryPath is where the entry for source's copy named sum lives: one per
// (checksum, path), since the same bytes may be configured at two paths.
func entryPath(dir, sum, source string) string {
	h := sha256.Sum256([]byte(source))
	return filepath.Join(dir, sum+"."+hex.EncodeToString(h[:8])+".verified")
}

// cachedCopy returns the verified copy of path when its entry says that
// neither path nor the copy changed since the copy was verified.
func cachedCopy(dir, path, sum string, src fileID) (string, bool) {
	data, err := os.ReadFile(entryPath(dir, sum, path))
	if err != nil {
		return "", false
	}
	var e verifiedEntry
	if json.Unmarshal(data, &e) != nil || e.Source != path || e.SourceID != src {
		return "", false
	}
	exe := filepath.Join(dir, sum)
	if cp, ok, err := statID(exe, false); err != nil || !ok || cp != e.CopyID {
		return "", false
	}
	return exe, true
}

// verifiedCopy returns the path of a private copy of the plugin at path
// whose sha256 is want: the copy is what runs.
//
// Hashing a file and then exec'ing it by path runs whatever is at that path
// at exec time, which someone able to write the plugin's directory can swap
// in between. A copy in a directory only this user can write closes the
// gap for binaries and scripts alike; hashing through an open fd and
// exec'ing /proc/self/fd/N would be Linux-only and fails for scripts, whose
// interpreter opens the path after the close-on-exec fd is gone.
//
// The copy is made, and the bytes hashed as they are copied, when the
// plugin is new or changed; otherwise the copy verified before is reused
// (see verifiedEntry): the plugin is read once, not at every start. A
// changed plugin — other content, size, inode or change time, or a copy
// that is no longer the one written — is copied and hashed again, and
// refused when its sha256 is not want.
func verifiedCopy(path string, want []byte) (string, error) {
	dir, err := pluginCacheDir()
	if err != nil {
		return "", err
	}
	sum := hex.EncodeToString(want)
	src, hasID, err := statID(path, true)
	if err != nil {
		return "", err
	}
	if hasID {
		if exe, ok := cachedCopy(dir, path, sum, src); ok {
			return exe, nil
		}
	}
	started := time.Now()
	in, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, ".copy-*")
	if err != nil {
		return "", fmt.Errorf("copying the plugin to run it: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), in)
	if err == nil {
		err = tmp.Chmod(0o500)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("copying the plugin to run it: %w", err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		return "", fmt.Errorf("checksum mismatch: the file's sha256 is %s but the config says %s; it was not started. If you updated the plugin on purpose, run `mcpauth plugin hash %s` and update plugin.sha256",
			hex.EncodeToString(got), sum, path)
	}
	exe := filepath.Join(dir, sum)
	if err := os.Rename(tmp.Name(), exe); err != nil {
		return "", fmt.Errorf("copying the plugin to run it: %w", err)
	}
	if hasID {
		rememberCopy(dir, path, sum, src, in, started)
	}
	return exe, nil
}

// rememberCopy records the verified copy of path, unless path changed
// while it was read, or too recently to trust its identity (racyWindow).
// Failing to record only costs a hash at the next start.
func rememberCopy(dir, path, sum string, src fileID, in *os.File, started time.Time) {
	after, ok, err := statID(path, true)
	if err != nil || !ok || after != src || started.Sub(src.changed()) < racyWindow {
		return
	}
	// The file read is the one at path (an identical swap and swap back
	// would show in the fd's identity).
	if fi, err := in.Stat(); err != nil {
		return
	} else if id, ok := idOf(fi); !ok || id != src {
		return
	}
	cp, ok, err := statID(filepath.Join(dir, sum), false)
	if err != nil || !ok {
		return
	}
	if data, err := json.Marshal(verifiedEntry{Source: path, SourceID: src, CopyID: cp}); err == nil {
		writeEntry(dir, entryPath(dir, sum, path), data)
	}
}

// selfFile is the host executable as a plugin: its checksum is whatever
// it held when this process took its identity (thisExe), established at
// the first start of a built-in plugin rather than at start-up, where
// hashing a server's 20–30 MB binary took a large part of its start. It
// is read at most once per binary: the checksum is remembered beside the
// verified copies (selfEntry) for later processes of the same binary.
type selfFile struct {
	path  string
	id    fileID
	hasID bool

	once sync.Once
	sum  []byte // known at once where there is no identity
	err  error
}

// selfEntry records that the file Source had checksum SHA256 while it had
// identity SourceID.
type selfEntry struct {
	Source   string
	SourceID fileID
	SHA256   string
}

func selfEntryPath(dir, source string) string {
	h := sha256.Sum256([]byte(source))
	return filepath.Join(dir, "self."+hex.EncodeToString(h[:8])+".verified")
}

// sha256 is the executable's checksum. It refuses a binary replaced or
// changed since this process took its identity: the built-in driver must
// be the host's own code, not an upgrade installed meanwhile.
func (f *selfFile) sha256(dir string) ([]byte, error) {
	if !f.hasID {
		return f.sum, nil
	}
	now, _, err := statID(f.path, true)
	if err != nil {
		return nil, err
	}
	if now != f.id {
		return nil, fmt.Errorf("this executable (%s) was replaced or changed since this process started; restart it to run its built-in drivers", f.path)
	}
	f.once.Do(func() {
		if data, err := os.ReadFile(selfEntryPath(dir, f.path)); err == nil {
			var e selfEntry
			if json.Unmarshal(data, &e) == nil && e.Source == f.path && e.SourceID == f.id {
				if sum, err := hex.DecodeString(e.SHA256); err == nil && len(sum) == sha256.Size {
					f.sum = sum
					return
				}
			}
		}
		started := time.Now()
		if f.sum, f.err = sha256Of(f.path); f.err != nil {
			return
		}
		if after, ok, err := statID(f.path, true); err == nil && ok && after == f.id && started.Sub(f.id.changed()) >= racyWindow {
			if data, err := json.Marshal(selfEntry{Source: f.path, SourceID: f.id, SHA256: hex.EncodeToString(f.sum)}); err == nil {
				writeEntry(dir, selfEntryPath(dir, f.path), data)
			}
		}
	})
	return f.sum, f.err
}

func sha256Of(path string) ([]byte, error) {
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(sum)
}

// writeEntry replaces the file at path with data, atomically; failing
// only costs a hash at a later start.
func writeEntry(dir, path string, data []byte) {
	tmp, err := os.CreateTemp(dir, ".entry-*")
	if err != nil {
		return
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
	}
}
