package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// Resolve returns the plugin binary's absolute path with every symbolic
// link followed, and refuses (with ErrOutsidePluginDir) a path that leads
// outside pluginDir either as written or once links are followed: a link
// inside the directory must not smuggle in a binary from elsewhere. The
// binary must exist and be a regular file. Resolve does not check the
// digest; the caller hashes the returned file before starting it.
func (p *Plugin) Resolve(pluginDir string) (string, error) {
	if pluginDir == "" {
		return "", fmt.Errorf("config: plugin %q: no plugin directory configured", p.Path)
	}
	dir, err := filepath.Abs(pluginDir)
	if err != nil {
		return "", fmt.Errorf("config: plugin directory: %w", err)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("config: plugin directory: %w", err)
	}
	full, ok := insideDir(dir, p.Path)
	if !ok && filepath.IsAbs(p.Path) {
		// An absolute path may name the directory by its real location.
		full, ok = insideDir(realDir, p.Path)
	}
	if !ok {
		return "", fmt.Errorf("%w: %q is outside %s", ErrOutsidePluginDir, p.Path, dir)
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "", fmt.Errorf("config: plugin: %w", err)
	}
	if _, ok := insideDir(realDir, real); !ok {
		return "", fmt.Errorf("%w: %s resolves to %s, outside %s", ErrOutsidePluginDir, full, real, realDir)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("config: plugin: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("config: plugin %s is not a regular file", real)
	}
	return real, nil
}
