//go:build linux

package registry

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// agedScript writes a plugin script that touches marker when run and waits
// until it is older than a shortened racyWindow, so that a verified copy of
// it is remembered. It returns the script's path and checksum.
func agedScript(t *testing.T, dir, marker string) (string, []byte) {
	t.Helper()
	old := racyWindow
	racyWindow = 50 * time.Millisecond
	t.Cleanup(func() { racyWindow = old })
	path := writeScript(t, dir, marker)
	time.Sleep(2 * racyWindow)
	sum, err := fileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(sum)
	return path, raw
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// An unchanged plugin is read once: later starts run the copy verified
// before (its inode stays), and that copy holds the plugin's bytes.
func TestUnchangedPluginIsNotCopiedAgain(t *testing.T) {
	dir := t.TempDir()
	path, sum := agedScript(t, dir, filepath.Join(dir, "ran"))
	first, err := verifiedCopy(path, sum)
	if err != nil {
		t.Fatal(err)
	}
	ino := inode(t, first)
	second, err := verifiedCopy(path, sum)
	if err != nil {
		t.Fatal(err)
	}
	if second != first || inode(t, second) != ino {
		t.Fatalf("the unchanged plugin was copied again (%s inode %d, then %s inode %d)", first, ino, second, inode(t, second))
	}
	want, _ := os.ReadFile(path)
	if got, _ := os.ReadFile(second); string(got) != string(want) {
		t.Fatalf("the reused copy holds %q, the plugin %q", got, want)
	}
}

// A cache of verified copies must never let a changed plugin through: a
// plugin rewritten in place to the same size with its mtime set back, or
// replaced by another file of the same size and mtime, is hashed again
// and refused; a plugin changed too recently to trust its timestamps is
// hashed again at every start; a copy changed in the cache is made again.
func TestChangedPluginIsHashedAgain(t *testing.T) {
	sameSize := func(orig []byte) []byte { // same length, other command
		b := []byte(strings.Replace(string(orig), "touch", "rm -f", 1))
		return b[:len(orig)]
	}
	for _, tc := range []struct {
		name    string
		change  func(t *testing.T, path, copyPath string)
		refused bool
	}{
		{"rewritten in place, mtime restored", func(t *testing.T, path, _ string) {
			fi, _ := os.Stat(path)
			orig, _ := os.ReadFile(path)
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.WriteAt(sameSize(orig), 0)
			if err = errors.Join(err, f.Close(), os.Chtimes(path, fi.ModTime(), fi.ModTime())); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"replaced by a file of the same size and mtime", func(t *testing.T, path, _ string) {
			fi, _ := os.Stat(path)
			orig, _ := os.ReadFile(path)
			tmp := path + ".new"
			err := errors.Join(os.WriteFile(tmp, sameSize(orig), 0o755), os.Chtimes(tmp, fi.ModTime(), fi.ModTime()), os.Rename(tmp, path))
			if err != nil {
				t.Fatal(err)
			}
		}, true},
		{"the verified copy replaced in the cache", func(t *testing.T, _, copyPath string) {
			tmp := copyPath + ".new"
			if err := errors.Join(os.WriteFile(tmp, []byte("#!/bin/sh\nexit 0\n"), 0o500), os.Rename(tmp, copyPath)); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, sum := agedScript(t, dir, filepath.Join(dir, "ran"))
			want, _ := os.ReadFile(path)
			exe, err := verifiedCopy(path, sum)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond) // past the file system's clock tick
			tc.change(t, path, exe)
			exe, err = verifiedCopy(path, sum)
			if tc.refused {
				if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
					t.Fatalf("the changed plugin was not refused: %s, %v", exe, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(exe); string(got) != string(want) {
				t.Fatalf("the copy that runs holds %q, want the plugin's %q", got, want)
			}
		})
	}

	t.Run("changed within the racy window", func(t *testing.T) {
		dir := t.TempDir()
		path, sum := agedScript(t, dir, filepath.Join(dir, "ran"))
		racyWindow = time.Hour // every file is "just changed"
		exe, err := verifiedCopy(path, sum)
		if err != nil {
			t.Fatal(err)
		}
		ino := inode(t, exe)
		if exe, err = verifiedCopy(path, sum); err != nil {
			t.Fatal(err)
		}
		if inode(t, exe) == ino {
			t.Fatal("a plugin changed within the racy window was not copied and hashed again")
		}
	})
}

// End to end: a plugin that ran, then was rewritten in place to the same
// size with its mtime restored, does not run again.
func TestRewrittenPluginDoesNotRunAgain(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	path, sum := agedScript(t, dir, marker)
	p := OpenPlugin(PluginSpec{Provider: "corp", Path: path, SHA256: sum})
	p.Metadata(context.Background()) // not a plugin: fails the handshake, after running
	p.Close()
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the verified plugin did not run: %v", err)
	}
	os.Remove(marker)

	fi, _ := os.Stat(path)
	script := "#!/bin/sh\ntouch " + marker + "\n"
	evil := "#!/bin/sh\n:>" + marker + "\n"
	evil += strings.Repeat("#", len(script)-len(evil)-1) + "\n"
	time.Sleep(20 * time.Millisecond)
	if err := errors.Join(os.WriteFile(path, []byte(evil), 0o755), os.Chtimes(path, fi.ModTime(), fi.ModTime())); err != nil {
		t.Fatal(err)
	}
	p = OpenPlugin(PluginSpec{Provider: "corp", Path: path, SHA256: sum})
	defer p.Close()
	if _, err := p.Metadata(context.Background()); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("the rewritten plugin: err = %v", err)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the rewritten plugin ran")
	}
}

// The host's own checksum is taken at the first start of a built-in
// plugin, not when its spec is made at start-up; a later process of the
// same binary finds it beside the copies; and a host binary replaced or
// changed since the process took its identity is refused.
func TestSelfChecksum(t *testing.T) {
	spec, err := BuiltinPluginSpec("p", "oidc", provider.DriverConfig{Issuer: testMeta.Issuer, ClientID: "c", Metadata: testMeta})
	if err != nil {
		t.Fatal(err)
	}
	// The spec carries the executable, not a checksum: that is taken by
	// selfFile.sha256, at the first start (other tests of this process may
	// have started one already, so whether it was taken is not asserted).
	if spec.self == nil || spec.self.path != spec.Path || len(spec.SHA256) != 0 {
		t.Fatalf("the built-in spec carries a checksum made at start-up: self %+v, SHA256 %x", spec.self, spec.SHA256)
	}

	dir, err := pluginCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	path, want := agedScript(t, t.TempDir(), filepath.Join(t.TempDir(), "ran"))
	id, _, err := statID(path, true)
	if err != nil {
		t.Fatal(err)
	}
	first := &selfFile{path: path, id: id, hasID: true}
	if got, err := first.sha256(dir); err != nil || hex.EncodeToString(got) != hex.EncodeToString(want) {
		t.Fatalf("sha256 = %x, %v; want %x", got, err, want)
	}
	if _, err := os.Stat(selfEntryPath(dir, path)); err != nil {
		t.Fatalf("the checksum was not remembered: %v", err)
	}
	later := &selfFile{path: path, id: id, hasID: true}
	if got, err := later.sha256(dir); err != nil || hex.EncodeToString(got) != hex.EncodeToString(want) {
		t.Fatalf("a later process: sha256 = %x, %v; want %x", got, err, want)
	}

	time.Sleep(20 * time.Millisecond)
	orig, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if err := errors.Join(os.WriteFile(path, []byte(strings.Replace(string(orig), "touch", "rm -f", 1)), 0o755),
		os.Chtimes(path, fi.ModTime(), fi.ModTime())); err != nil {
		t.Fatal(err)
	}
	if _, err := (&selfFile{path: path, id: id, hasID: true}).sha256(dir); err == nil || !strings.Contains(err.Error(), "replaced or changed") {
		t.Fatalf("a host binary changed since start: err = %v", err)
	}
}
