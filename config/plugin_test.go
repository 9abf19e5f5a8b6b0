package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "plugins")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{dir, outside, filepath.Join(dir, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string) {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		if err := os.Symlink(target, name); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "driver"))
	write(filepath.Join(dir, "sub", "driver"))
	write(filepath.Join(outside, "evil"))
	link(filepath.Join(outside, "evil"), filepath.Join(dir, "escape"))         // inside, pointing out
	link("sub/driver", filepath.Join(dir, "alias"))                            // inside, pointing in
	link(outside, filepath.Join(dir, "outdir"))                                // a directory link out
	link(dir, filepath.Join(root, "plugins-link"))                             // the plugin dir by another name
	link(filepath.Join(dir, "driver"), filepath.Join(outside, "into-plugins")) // outside, pointing in

	// Resolve follows links; compare with the real directory.
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, pluginDir, path string
		want                  string // resolved path; "" for an error
		outside               bool   // the error must be ErrOutsidePluginDir
	}{
		{"relative", dir, "driver", filepath.Join(realDir, "driver"), false},
		{"relative in a subdirectory", dir, "sub/driver", filepath.Join(realDir, "sub", "driver"), false},
		{"absolute inside", dir, filepath.Join(dir, "driver"), filepath.Join(realDir, "driver"), false},
		{"link inside to inside", dir, "alias", filepath.Join(realDir, "sub", "driver"), false},
		{"plugin dir is a link", filepath.Join(root, "plugins-link"), "driver", filepath.Join(realDir, "driver"), false},
		{"absolute through the real dir", filepath.Join(root, "plugins-link"), filepath.Join(dir, "driver"), filepath.Join(realDir, "driver"), false},
		{"dot-dot", dir, "../outside/evil", "", true},
		{"absolute outside", dir, filepath.Join(outside, "evil"), "", true},
		{"absolute outside linking in", dir, filepath.Join(outside, "into-plugins"), "", true},
		{"link inside pointing out", dir, "escape", "", true},
		{"through a directory link out", dir, "outdir/evil", "", true},
		{"the directory itself", dir, ".", "", true},
		{"missing", dir, "nope", "", false},
		{"a directory", dir, "sub", "", false},
		{"no plugin dir", "", "driver", "", false},
		{"plugin dir missing", filepath.Join(root, "none"), "driver", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := (&Plugin{Path: tt.path}).Resolve(tt.pluginDir)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("Resolve = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Resolve = %q, want an error", got)
			}
			if errors.Is(err, ErrOutsidePluginDir) != tt.outside {
				t.Errorf("error %v: errors.Is(ErrOutsidePluginDir) = %v, want %v", err, !tt.outside, tt.outside)
			}
		})
	}
}
