//go:build unix

package driverplugin

import (
	"crypto/tls"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// pluginSide reads the key pair Attach handed to cmd, as the plugin does
// at start-up from its inherited descriptor.
func pluginSide(t *testing.T, cmd *exec.Cmd) *tls.Config {
	t.Helper()
	f := cmd.ExtraFiles[len(cmd.ExtraFiles)-1]
	// In the plugin the pipe is descriptor 3+i; here a duplicate, which
	// serverTLS closes, while f is closed by the test.
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Setenv(TLSFDEnv, strconv.Itoa(fd))
	cfg, err := serverTLS()
	if err != nil || cfg == nil {
		t.Fatalf("serverTLS = %v, %v", cfg, err)
	}
	return cfg
}

func handshake(client, server *tls.Config) (clientErr, serverErr error) {
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	done := make(chan error, 1)
	go func() { done <- tls.Server(s, server).Handshake(); s.Close() }()
	clientErr = tls.Client(c, client).Handshake()
	c.Close()
	return clientErr, <-done
}

// The host and its plugin authenticate each other with the pairs the
// host made; a stranger's pair is refused by both.
func TestPluginTLS(t *testing.T) {
	host, err := NewPluginTLS()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("true")
	if _, err := host.Attach(cmd); err != nil {
		t.Fatal(err)
	}
	if got := cmd.Env[len(cmd.Env)-1]; got != TLSFDEnv+"=3" {
		t.Errorf("the plugin is told %q, want descriptor 3", got)
	}
	plugin := pluginSide(t, cmd)
	if ce, se := handshake(host.Config, plugin); ce != nil || se != nil {
		t.Fatalf("host ↔ plugin: %v / %v", ce, se)
	}

	stranger, err := NewPluginTLS()
	if err != nil {
		t.Fatal(err)
	}
	if ce, se := handshake(stranger.Config, plugin); ce == nil && se == nil {
		t.Error("the plugin accepted a client with another certificate")
	}
	other := exec.Command("true")
	if _, err := stranger.Attach(other); err != nil {
		t.Fatal(err)
	}
	if ce, se := handshake(host.Config, pluginSide(t, other)); ce == nil && se == nil {
		t.Error("the host accepted a server with another certificate")
	}
}

// Without the variable the plugin lets go-plugin fall back to AutoMTLS;
// a variable that names no key pair is an error, not a plaintext server.
func TestServerTLSWithoutKeyPair(t *testing.T) {
	t.Setenv(TLSFDEnv, "")
	if cfg, err := serverTLS(); cfg != nil || err != nil {
		t.Fatalf("no variable: serverTLS = %v, %v; want nil, nil", cfg, err)
	}
	for _, v := range []string{"x", "1"} {
		t.Setenv(TLSFDEnv, v)
		if cfg, err := serverTLS(); cfg != nil || err == nil {
			t.Errorf("%s=%s: serverTLS = %v, %v; want an error", TLSFDEnv, v, cfg, err)
		}
	}
}
