package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	pb "github.com/mcpauth/mcpauth/internal/driverpb"
	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/provider"
)

// Plugin supervision limits.
const (
	// pluginStartTimeout bounds a plugin's start-up handshake.
	pluginStartTimeout = 20 * time.Second
	// maxRestartBackoff caps the wait before restarting a plugin that keeps
	// crashing (100 ms doubling per consecutive failure).
	maxRestartBackoff = 5 * time.Second
)

// allowedEnv are the host environment variables every plugin sees: enough
// to find programs, a home directory, proxies and CA certificates. Nothing
// else of the host's environment reaches a plugin unless its configuration
// grants it by name.
var allowedEnv = []string{
	"PATH", "HOME", "TMPDIR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
}

// PluginSpec says how to run one driver plugin.
type PluginSpec struct {
	// Provider is the provider name, used in errors and logs.
	Provider string
	// Path is the plugin executable, absolute and already confined to the
	// plugin directory (see config.Plugin.Resolve).
	Path string
	Args []string
	// SHA256 is the expected checksum of the executable; required. It is
	// checked before the plugin starts, every time it starts.
	SHA256 []byte
	// Env lists further host environment variable names the plugin may see.
	Env []string
	// ExtraEnv is set in the plugin's environment as is ("KEY=VALUE").
	ExtraEnv []string
	// Config configures the driver inside the plugin.
	Config provider.DriverConfig
	// Logger receives plugin logs; nil means stderr.
	Logger hclog.Logger
}

// supervisor runs one plugin process: it starts it lazily on the first call,
// verifies its checksum before every start, turns a crash into a clear error
// on the call in flight and restarts it (with backoff) on the next call.
type supervisor struct {
	spec PluginSpec

	mu       sync.Mutex
	proc     *plugin.Client
	conn     *driverplugin.Client
	failures int // consecutive start failures and crashes
	lastFail time.Time
	closed   bool
}

func newSupervisor(spec PluginSpec) *supervisor { return &supervisor{spec: spec} }

// errClosed: the registry was closed.
var errClosed = errors.New("registry: closed")

// client returns the connected plugin, starting it if needed.
func (s *supervisor) client(ctx context.Context) (*driverplugin.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if s.conn != nil && !s.proc.Exited() {
		return s.conn, nil
	}
	if s.proc != nil { // crashed since the last call
		s.proc.Kill()
		s.proc, s.conn = nil, nil
	}
	if s.failures > 0 {
		backoff := min(100*time.Millisecond<<min(s.failures-1, 10), maxRestartBackoff)
		if wait := backoff - time.Since(s.lastFail); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
	}
	proc, conn, err := s.start(ctx)
	if err != nil {
		s.failures++
		s.lastFail = time.Now()
		return nil, err
	}
	s.proc, s.conn = proc, conn
	return conn, nil
}

func (s *supervisor) start(ctx context.Context) (*plugin.Client, *driverplugin.Client, error) {
	name := fmt.Sprintf("driver plugin for provider %q (%s)", s.spec.Provider, s.spec.Path)
	if len(s.spec.SHA256) != sha256.Size {
		return nil, nil, fmt.Errorf("registry: %s: no sha256 configured; run `mcpauth plugin hash %s` and add it as plugin.sha256", name, s.spec.Path)
	}
	if got, err := fileSHA256(s.spec.Path); err != nil {
		return nil, nil, fmt.Errorf("registry: %s: %w", name, err)
	} else if !strings.EqualFold(got, hex.EncodeToString(s.spec.SHA256)) {
		return nil, nil, fmt.Errorf("registry: %s: checksum mismatch: the file's sha256 is %s but the config says %s; it was not started. If you updated the plugin on purpose, run `mcpauth plugin hash %s` and update plugin.sha256",
			name, got, hex.EncodeToString(s.spec.SHA256), s.spec.Path)
	}
	logger := s.spec.Logger
	if logger == nil {
		logger = hclog.New(&hclog.LoggerOptions{Name: "mcpauth.plugin." + s.spec.Provider, Output: os.Stderr, Level: hclog.Info})
	}
	cmd := exec.Command(s.spec.Path, s.spec.Args...)
	cmd.Env = pluginEnv(s.spec.Env, s.spec.ExtraEnv)
	proc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  driverplugin.Handshake,
		VersionedPlugins: driverplugin.Plugins(nil),
		Cmd:              cmd,
		SecureConfig:     &plugin.SecureConfig{Checksum: s.spec.SHA256, Hash: sha256.New()},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     pluginStartTimeout,
		Logger:           logger,
		// A plugin's stray prints go to our stderr, never to stdout, which
		// belongs to JSON-RPC.
		SyncStdout: logWriter{logger, "stdout"},
		SyncStderr: logWriter{logger, "stderr"},
	})
	rpc, err := proc.Client()
	if err != nil {
		proc.Kill()
		return nil, nil, fmt.Errorf("registry: %s failed to start: %s", name, explainStartError(err))
	}
	raw, err := rpc.Dispense(driverplugin.PluginName)
	if err != nil {
		proc.Kill()
		return nil, nil, fmt.Errorf("registry: %s: %w", name, err)
	}
	conn, err := driverplugin.Connect(ctx, raw.(pb.DriverClient), s.spec.Config)
	if err != nil {
		proc.Kill()
		return nil, nil, fmt.Errorf("registry: %s: configuring the driver: %w", name, err)
	}
	return proc, conn, nil
}

// explainStartError turns go-plugin's start errors into advice.
func explainStartError(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return "checksum mismatch (the file changed after it was checked); it was not started"
	case strings.Contains(msg, "incompatible API version"):
		return fmt.Sprintf("%s: it speaks another version of the mcpauth driver protocol than this host (version %d); rebuild it against a compatible github.com/mcpauth/mcpauth/sdk/driver", msg, driverplugin.ProtocolVersion)
	case strings.Contains(msg, "Unrecognized remote plugin message"), strings.Contains(msg, "plugin exited before we could connect"):
		return fmt.Sprintf("%s: it is not an mcpauth driver plugin, or it failed at start-up (its stderr is in the log above); a driver's main must call driver.Serve from github.com/mcpauth/mcpauth/sdk/driver", msg)
	}
	return msg
}

// pid returns the running plugin's process ID, or 0.
func (s *supervisor) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	if rc := s.proc.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// crashed records that the plugin died during a call.
func (s *supervisor) crashed(conn *driverplugin.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != conn {
		return // already restarted
	}
	s.failures++
	s.lastFail = time.Now()
	if s.proc != nil {
		s.proc.Kill()
	}
	s.proc, s.conn = nil, nil
}

// succeeded resets the backoff after a call went through.
func (s *supervisor) succeeded() {
	s.mu.Lock()
	s.failures = 0
	s.mu.Unlock()
}

// kill stops the plugin; the supervisor refuses further calls.
func (s *supervisor) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.proc != nil {
		s.proc.Kill()
		s.proc, s.conn = nil, nil
	}
}

func pluginEnv(granted, extra []string) []string {
	var env []string
	for _, k := range append(append([]string{}, allowedEnv...), granted...) {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileSHA256 returns the hex sha256 of a file, as plugin.sha256 expects it.
func FileSHA256(path string) (string, error) { return fileSHA256(path) }

// logWriter re-emits a plugin's raw output lines as log entries.
type logWriter struct {
	l      hclog.Logger
	stream string
}

func (w logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line != "" {
			w.l.Info("plugin output", "stream", w.stream, "line", line)
		}
	}
	return len(p), nil
}
