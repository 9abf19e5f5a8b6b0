package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoredLoginStatusLogout: login --store-honouring config keeps a real
// login (devserver, auto-approved device grant) in an encrypted file
// store; status lists it without a token; logout revokes it at the issuer
// and removes it; status then lists none. HOME and the runtime directory
// are the test's, and no session bus is reachable: the real user's
// keychain and config are never touched.
func TestStoredLoginStatusLogout(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(home, "run"))
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(home, "no-bus"))
	t.Setenv("MCPAUTH_CONFIG", "")
	info, _ := startDevserver(t, "--auto-approve", "--client-id", "my-app")
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(`store: file
providers:
  - name: dev
    issuer: `+info.Issuer+`
    client_id: my-app
    scopes: [openid, offline_access]
    grant: device
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(want int, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if code := run(context.Background(), args, &out); code != want {
			t.Fatalf("mcpauth %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out.String())
		}
		return out.String()
	}
	if out := cli(0, "login", "--provider", "dev", "--config", cfg); !strings.Contains(out, "Kept in the file store") {
		t.Fatalf("login output:\n%s", out)
	}
	var files []string
	filepath.WalkDir(filepath.Join(home, ".config", "mcpauth", "tokens"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".token") {
			files = append(files, path)
		}
		return nil
	})
	if len(files) != 1 {
		t.Fatalf("token files: %v, want 1", files)
	}
	out := cli(0, "status", "--config", cfg)
	if !strings.Contains(out, "store file: 1 login(s)") || !strings.Contains(out, "dev: test-user at "+info.Issuer) ||
		!strings.Contains(out, `scopes "openid offline_access"`) {
		t.Errorf("status output:\n%s", out)
	}
	cli(2, "logout", "--config", cfg) // neither a provider nor --all
	if out := cli(1, "logout", "nope", "--config", cfg); !strings.Contains(out, `no provider "nope"`) {
		t.Errorf("logout of an unknown provider:\n%s", out)
	}
	if out := cli(0, "logout", "dev", "--account", "someone-else", "--config", cfg); !strings.Contains(out, "nothing to log out") {
		t.Errorf("logout of another account:\n%s", out)
	}
	if out := cli(0, "logout", "dev", "--config", cfg); !strings.Contains(out, "dev: test-user: revoked at the issuer and removed") {
		t.Errorf("logout output:\n%s", out)
	}
	if out := cli(0, "status", "--config", cfg); !strings.Contains(out, "store file: 0 login(s)") {
		t.Errorf("status after logout:\n%s", out)
	}
	if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
		t.Errorf("the token file is still there after logout: %v", err)
	}
}

// TestStoreChoiceErrors: a keychain that cannot be reached is an error
// naming the way out; --store takes only the three kinds.
func TestStoreChoiceErrors(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(home, "no-bus"))
	t.Setenv("MCPAUTH_CONFIG", "")
	t.Setenv("MCPAUTH_STORE", "keychain")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"status"}, &out); code != 1 || !strings.Contains(out.String(), "use store: file") {
		t.Errorf("status with an unreachable keychain: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"login", "--issuer", "https://x.example", "--client-id", "c", "--store", "disk"}, &out); code != 2 || !strings.Contains(out.String(), "want memory, keychain or file") {
		t.Errorf("login --store disk: exit %d\n%s", code, out.String())
	}
}
