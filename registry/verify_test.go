package registry

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// swapOnStart replaces the plugin file the moment go-plugin logs that it
// is about to exec it: after every checksum check, before the process
// starts, the worst moment of a swap race.
type swapOnStart struct {
	path, replacement string
	once              sync.Once
	swapped           bool
	err               error
}

func (s *swapOnStart) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "starting plugin") {
		s.once.Do(func() {
			tmp := s.path + ".new"
			if s.err = os.WriteFile(tmp, []byte(s.replacement), 0o755); s.err == nil {
				s.err = os.Rename(tmp, s.path)
			}
			s.swapped = s.err == nil
		})
	}
	return len(p), nil
}

// The bytes that were verified are the bytes that run: a plugin replaced
// on disk between its checksum check and its start cannot run.
func TestSwappedPluginCannotRun(t *testing.T) {
	dir := t.TempDir()
	verified, swapped := filepath.Join(dir, "verified-ran"), filepath.Join(dir, "swapped-ran")
	path := writeScript(t, dir, verified)
	sum, _ := fileSHA256(path)
	raw, _ := hex.DecodeString(sum)
	swap := &swapOnStart{path: path, replacement: "#!/bin/sh\ntouch " + swapped + "\n"}

	p := OpenPlugin(PluginSpec{Provider: "corp", Path: path, SHA256: raw,
		Logger: hclog.New(&hclog.LoggerOptions{Output: swap, Level: hclog.Trace})})
	defer p.Close()
	_, err := p.Metadata(context.Background())
	if !swap.swapped {
		t.Fatalf("the test never swapped the file (err %v); did go-plugin's start-up log change?", swap.err)
	}
	if _, serr := os.Stat(swapped); serr == nil {
		t.Fatal("the swapped-in binary ran after the original was verified")
	}
	if _, serr := os.Stat(verified); serr != nil {
		t.Fatalf("the verified binary did not run either (err %v): %v", err, serr)
	}
}

// A plugin in a directory others can write to (or itself writable by
// others) is refused before it runs: whoever can write there can replace
// it between two starts.
func TestPluginWritableByOthersIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name              string
		dirMode, fileMode os.FileMode
		refused           string // "" means it runs
	}{
		{"private directory", 0o755, 0o755, ""},
		{"world-writable directory", 0o777, 0o755, "drwxrwxrwx"},
		{"group-writable directory", 0o775, 0o755, "drwxrwxr-x"},
		{"world-writable file", 0o755, 0o757, "-rwxr-xrwx"},
		{"group-writable file", 0o755, 0o775, "-rwxrwxr-x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "plugins")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			marker := filepath.Join(t.TempDir(), "ran")
			path := writeScript(t, dir, marker)
			sum, _ := fileSHA256(path)
			raw, _ := hex.DecodeString(sum)
			// Chmod, not the umask-filtered create modes.
			if err := errors.Join(os.Chmod(path, tc.fileMode), os.Chmod(dir, tc.dirMode)); err != nil {
				t.Fatal(err)
			}
			p := OpenPlugin(PluginSpec{Provider: "corp", Path: path, SHA256: raw})
			defer p.Close()
			_, err := p.Metadata(context.Background())
			_, ran := os.Stat(marker)
			if tc.refused == "" {
				if ran != nil {
					t.Fatalf("the plugin in a private directory did not run: %v", err)
				}
				return
			}
			if ran == nil {
				t.Fatal("the plugin ran")
			}
			target := path
			if tc.dirMode&0o022 != 0 {
				target = dir
			}
			wantErr(t, err, `provider "corp"`, fmt.Sprintf("%q", target), tc.refused, "writable")
		})
	}
}
