package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/registry"
)

func TestDriversVerifiesPlugins(t *testing.T) {
	pluginDir := t.TempDir()
	good := filepath.Join(pluginDir, "good-driver")
	bad := filepath.Join(pluginDir, "bad-driver")
	os.WriteFile(good, []byte("#!/bin/sh\necho good\n"), 0o755)
	os.WriteFile(bad, []byte("#!/bin/sh\necho bad\n"), 0o755)
	goodSum, _ := registry.FileSHA256(good)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte(`plugin_dir: `+pluginDir+`
providers:
  - name: gh
    issuer: https://login.example.com
    client_id: c
  - name: good
    driver: external
    issuer: https://idp.corp.example
    client_id: c
    plugin: {path: good-driver, sha256: `+goodSum+`}
  - name: bad
    driver: external
    issuer: https://idp.corp.example
    client_id: c
    plugin: {path: bad-driver, sha256: `+goodSum+`}
`), 0o600)
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"drivers", "--config", cfg}, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1 for the mismatching plugin: %s", code, stderr.String())
	}
	out := stderr.String()
	badSum, _ := registry.FileSHA256(bad)
	for _, want := range []string{"the config expects " + goodSum, "the binary is " + badSum, "mcpauth plugin hash " + bad} {
		if !strings.Contains(out, want) {
			t.Errorf("the mismatch report lacks %q:\n%s", want, out)
		}
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	if !strings.Contains(lines["good"], " ok ") || !strings.Contains(lines["bad"], "MISMATCH") {
		t.Fatalf("verdicts wrong:\n%s", out)
	}
	if !strings.Contains(lines["gh"], "oidc") || !strings.Contains(lines["gh"], "generic") {
		t.Fatalf("resolution not shown:\n%s", out)
	}
}

func TestPluginHash(t *testing.T) {
	f := filepath.Join(t.TempDir(), "p")
	os.WriteFile(f, []byte("abc"), 0o755)
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"plugin", "hash", f}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	// sha256("abc")
	if !strings.Contains(stderr.String(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") {
		t.Fatalf("output: %s", stderr.String())
	}
	if code := run(context.Background(), []string{"plugin", "hash"}, &stderr); code != 2 {
		t.Fatalf("missing PATH: exit %d, want 2", code)
	}
}

// TestDriversStartFailureExitsNonZero: with --start, a plugin that does not
// start (here a verified binary that is no driver) is a failure.
func TestDriversStartFailureExitsNonZero(t *testing.T) {
	pluginDir := t.TempDir()
	notADriver := filepath.Join(pluginDir, "not-a-driver")
	os.WriteFile(notADriver, []byte("#!/bin/sh\nexit 3\n"), 0o755)
	sum, _ := registry.FileSHA256(notADriver)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte(`plugin_dir: `+pluginDir+`
providers:
  - name: corp
    driver: external
    issuer: https://idp.corp.example
    client_id: c
    plugin: {path: not-a-driver, sha256: `+sum+`}
`), 0o600)
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"drivers", "--config", cfg}, &stderr); code != 0 {
		t.Fatalf("without --start: exit %d: %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"drivers", "--config", cfg, "--start"}, &stderr); code != 1 {
		t.Fatalf("with --start: exit %d, want 1: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), `provider "corp": the driver did not start`) {
		t.Errorf("no start failure reported:\n%s", stderr.String())
	}
}
