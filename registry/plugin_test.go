package registry

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

// The test binary doubles as the plugins and hosts these tests need,
// selected by MCPAUTH_TEST_MODE.
const testModeEnv = "MCPAUTH_TEST_MODE"

func TestMain(m *testing.M) {
	switch os.Getenv(testModeEnv) {
	case "":
		os.Exit(runTests(m))
	case "envprobe":
		driverplugin.Serve(envProbeFactory)
	case "noisy":
		driverplugin.Serve(noisyFactory)
	case "protocol-v2":
		servev2()
	case "automtls":
		serveAutoMTLS()
	case "host":
		runHost()
	}
	os.Exit(97)
}

// runTests runs the tests with a plugin cache of their own (verified
// plugin copies would otherwise pile up in the user's cache directory) and
// removes it and the faulty plugin afterwards.
func runTests(m *testing.M) int {
	cache, err := os.MkdirTemp("", "mcpauth-registry-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(cache)
	// The go command's build cache defaults to the same base directory:
	// keep it where it was, or building the faulty plugin starts cold.
	if base, err := os.UserCacheDir(); err == nil && os.Getenv("GOCACHE") == "" {
		os.Setenv("GOCACHE", filepath.Join(base, "go-build"))
	}
	os.Setenv("XDG_CACHE_HOME", cache)
	defer func() {
		if faultyDir != "" {
			os.RemoveAll(faultyDir)
		}
	}()
	return m.Run()
}

// staticDriver is a minimal driver with fixed metadata.
type staticDriver struct {
	desc   provider.Description
	meta   *provider.AuthServerMetadata
	onMeta func()
}

func (s *staticDriver) Describe() provider.Description { return s.desc }
func (s *staticDriver) Metadata(context.Context) (*provider.AuthServerMetadata, error) {
	if s.onMeta != nil {
		s.onMeta()
	}
	return s.meta, nil
}

var testMeta = &provider.AuthServerMetadata{Issuer: "https://as.example", TokenEndpoint: "https://as.example/token"}

// envProbeFactory reports the plugin's environment variable names as quirks.
func envProbeFactory(ctx context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	var names []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		names = append(names, k)
	}
	return &staticDriver{desc: provider.Description{Name: "envprobe", Version: "1", Quirks: names, ClientID: cfg.ClientID}, meta: testMeta}, nil
}

// noisyFactory builds a driver that writes to stdout and reads stdin on every call.
func noisyFactory(ctx context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	return &staticDriver{desc: provider.Description{Name: "noisy", Version: "1", ClientID: cfg.ClientID}, meta: testMeta,
		onMeta: func() {
			fmt.Println(`{"jsonrpc":"2.0","id":99,"result":"injected by a plugin"}`)
			os.Stdout.WriteString("more noise\n")
			buf := make([]byte, 4096)
			n, _ := os.Stdin.Read(buf)
			fmt.Fprintf(os.Stderr, "noisy plugin read %d bytes of stdin\n", n)
		}}, nil
}

// servev2 serves a plugin that speaks a protocol version this host does not.
func servev2() {
	hs := driverplugin.Handshake
	hs.ProtocolVersion = 2
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  hs,
		VersionedPlugins: map[int]plugin.PluginSet{2: driverplugin.Plugins(driverplugin.NewServer(envProbeFactory))[1]},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}

// runHost starts the built-in oidc plugin, prints its PID and waits to be killed.
func runHost() {
	spec, err := BuiltinPluginSpec("host-test", "oidc", provider.DriverConfig{Issuer: "http://127.0.0.1:1", ClientID: "c",
		Metadata: &provider.AuthServerMetadata{Issuer: "http://127.0.0.1:1", TokenEndpoint: "http://127.0.0.1:1/token"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p := OpenPlugin(spec)
	if _, err := p.Metadata(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(p.PID())
	time.Sleep(time.Hour)
}

// testBinarySpec runs this test binary as a plugin in the given mode.
func testBinarySpec(t *testing.T, mode string) PluginSpec {
	t.Helper()
	s, err := self()
	if err != nil {
		t.Fatal(err)
	}
	return PluginSpec{Provider: "test-" + mode, Path: s.path, SHA256: s.sha256,
		ExtraEnv: []string{testModeEnv + "=" + mode}, Config: provider.DriverConfig{Issuer: "https://as.example", ClientID: "client-1"}}
}

func TestPluginSeesOnlyAllowedEnvironment(t *testing.T) {
	t.Setenv("MCPAUTH_TEST_SECRET", "do-not-leak")
	t.Setenv("MCPAUTH_TEST_GRANTED", "granted")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
	spec := testBinarySpec(t, "envprobe")
	spec.Env = []string{"MCPAUTH_TEST_GRANTED"}
	p := OpenPlugin(spec)
	t.Cleanup(p.Close)
	if _, err := p.Metadata(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := p.Describe().Quirks
	allowed := append(slices.Clone(allowedEnv), "MCPAUTH_TEST_GRANTED", testModeEnv, driverplugin.Handshake.MagicCookieKey)
	for _, name := range got {
		if slices.Contains(allowed, name) || strings.HasPrefix(name, "PLUGIN_") {
			continue
		}
		t.Errorf("plugin sees host variable %s", name)
	}
	if !slices.Contains(got, "MCPAUTH_TEST_GRANTED") {
		t.Errorf("granted variable missing: %v", got)
	}
	if slices.Contains(got, "MCPAUTH_TEST_SECRET") || slices.Contains(got, "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("secret variables reached the plugin: %v", got)
	}
}

// writeScript writes an executable shell script that touches marker when run.
func writeScript(t *testing.T, dir, marker string) string {
	t.Helper()
	path := filepath.Join(dir, "driver")
	script := "#!/bin/sh\ntouch " + marker + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTamperedPluginIsRefusedBeforeItRuns(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	path := writeScript(t, dir, marker)
	sum, _ := fileSHA256(path)
	raw, _ := hex.DecodeString(sum)

	// Control: with the right checksum the binary runs (and, being no
	// plugin, fails the handshake with advice).
	p := OpenPlugin(PluginSpec{Provider: "corp", Path: path, SHA256: raw})
	_, err := p.Metadata(context.Background())
	p.Close()
	if err == nil || !strings.Contains(err.Error(), "not an mcpauth driver plugin") {
		t.Fatalf("non-plugin binary: err = %v", err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("control run did not execute the binary: %v", err)
	}
	os.Remove(marker)

	// Tamper: one more line. The checksum no longer matches.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("echo tampered\n")
	f.Close()
	p = OpenPlugin(PluginSpec{Provider: "corp", Path: path, SHA256: raw})
	defer p.Close()
	_, err = p.Metadata(context.Background())
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), `provider "corp"`) ||
		!strings.Contains(err.Error(), "mcpauth plugin hash") {
		t.Fatalf("tampered binary: err = %v", err)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the tampered binary ran")
	}
}

func TestPluginWithoutChecksumIsRefused(t *testing.T) {
	dir := t.TempDir()
	p := OpenPlugin(PluginSpec{Provider: "corp", Path: writeScript(t, dir, filepath.Join(dir, "ran"))})
	defer p.Close()
	if _, err := p.Metadata(context.Background()); err == nil || !strings.Contains(err.Error(), "no sha256 configured") {
		t.Fatalf("err = %v", err)
	}
}

func TestPluginProtocolVersionMismatch(t *testing.T) {
	p := OpenPlugin(testBinarySpec(t, "protocol-v2"))
	defer p.Close()
	_, err := p.Metadata(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another version of the mcpauth driver protocol") || !strings.Contains(err.Error(), "test-protocol-v2") {
		t.Fatalf("err = %v", err)
	}
}

func TestPluginOutputNeverReachesStdout(t *testing.T) {
	// The plugin writes JSON-RPC-looking lines to its stdout and reads
	// stdin. Run a host subprocess whose stdout and stdin we own.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	origOut := os.Stdout
	os.Stdout = w
	p := OpenPlugin(testBinarySpec(t, "noisy"))
	_, err = p.Metadata(context.Background())
	p.Close()
	os.Stdout = origOut
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	if len(out) != 0 {
		t.Fatalf("plugin output reached stdout: %q", out)
	}
}

func TestPluginCrashMidPollThenRecovers(t *testing.T) {
	op := zitadelop.Start(t, zitadelop.Options{})
	var disc discovery.Discoverer
	meta, err := disc.AuthServer(context.Background(), op.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	// The plugin reaches the token endpoint through this proxy, which kills
	// the plugin while its second poll is in flight.
	var p *PluginDriver
	var polls atomic.Int32
	target, _ := url.Parse(op.Issuer)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if polls.Add(1) == 2 {
			syscall.Kill(p.PID(), syscall.SIGKILL)
			http.Error(w, "gone", http.StatusBadGateway)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	killing := *meta
	killing.TokenEndpoint = proxy.URL + strings.TrimPrefix(meta.TokenEndpoint, op.Issuer)

	spec, err := BuiltinPluginSpec("crashy", "oidc", provider.DriverConfig{Issuer: op.Issuer, ClientID: op.ClientID,
		Scopes: []string{"openid"}, Metadata: &killing})
	if err != nil {
		t.Fatal(err)
	}
	p = OpenPlugin(spec)
	t.Cleanup(p.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fast := func(ctx context.Context, d time.Duration) error { time.Sleep(d / 100); return ctx.Err() }

	da, err := p.StartDevice(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	firstPID := p.PID()
	_, err = (&login.DevicePoller{Sleep: fast}).Poll(ctx, p, da)
	if err == nil || !strings.Contains(err.Error(), `driver plugin for provider "crashy"`) || !strings.Contains(err.Error(), "died during PollDevice") {
		t.Fatalf("poll in flight when the plugin was killed: err = %v", err)
	}
	if polls.Load() != 2 {
		t.Fatalf("%d polls reached the server, want 2", polls.Load())
	}

	// The next login restarts the plugin and works.
	login := &login.Login{
		Preference: login.PreferDevice,
		Device:     login.DevicePoller{Sleep: fast},
		ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error {
			return op.ApproveDevice(ctx, da.UserCode)
		},
	}
	tok, err := login.Run(ctx, p, nil)
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("login after restart: %v, %v", tok, err)
	}
	if pid := p.PID(); pid == 0 || pid == firstPID {
		t.Fatalf("plugin PID after restart = %d (first %d)", pid, firstPID)
	}
}

func TestKilledHostLeavesNoPlugin(t *testing.T) {
	s, _ := self()
	host := exec.Command(s.path, "-test.run=^$")
	host.Env = append(os.Environ(), testModeEnv+"=host")
	out, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	host.Stderr = os.Stderr
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		host.Process.Kill()
		t.Fatalf("host printed no plugin PID: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		host.Process.Kill()
		t.Fatalf("host printed %q", line)
	}
	if !alive(pid) {
		t.Fatalf("plugin %d not running while the host is", pid)
	}
	host.Process.Signal(syscall.SIGKILL)
	host.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("plugin %d still running 10 s after its host was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie awaiting its reaper counts as gone).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) == 0 || fields[0] != "Z"
}
