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
	"syscall"
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
	// stopGrace is how long a plugin has to exit after go-plugin asks it to,
	// before its whole process group is killed; go-plugin itself waits 2 s.
	stopGrace = 3 * time.Second
	// execRetries bounds restarts of an exec that failed with ETXTBSY: a
	// fork elsewhere in the process can briefly hold the fd of the copy
	// just written (golang/go#22315).
	execRetries = 3
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
	// SHA256 is the expected checksum of the executable; required (but
	// for a BuiltinPluginSpec). It is checked before the plugin starts,
	// every time it starts, against the bytes that run.
	SHA256 []byte
	// Env lists further host environment variable names the plugin may see.
	Env []string
	// ExtraEnv is set in the plugin's environment as is ("KEY=VALUE").
	ExtraEnv []string
	// Config configures the driver inside the plugin.
	Config provider.DriverConfig
	// Logger receives plugin logs; nil means stderr.
	Logger hclog.Logger
	// RPCTimeout bounds each call to the plugin, whatever the caller's
	// deadline; a plugin that takes longer is stopped and restarted on the
	// next call. Zero means driverplugin.DefaultRPCTimeout (60 s).
	RPCTimeout time.Duration
	// VerificationHosts are further hosts a login URL from the plugin may
	// name, beyond the configured issuer's host and registrable domain.
	VerificationHosts []string
	// Issuer is what the plugin's metadata must name when it differs from
	// Config.Issuer (set by BuiltinPluginSpec for drivers that derive it).
	Issuer string

	// self is set by BuiltinPluginSpec: Path is this executable, and the
	// checksum is its own, taken at the first start (SHA256 is then unset).
	self *selfFile
}

// supervisor runs one plugin process: it starts it lazily on the first call,
// verifies its checksum before every start, turns a crash into a clear error
// on the call in flight and restarts it (with backoff) on the next call.
type supervisor struct {
	spec   PluginSpec
	logger hclog.Logger // the spec's, or stderr; set once, by newSupervisor

	mu       sync.Mutex
	proc     *plugin.Client
	pgid     int // the plugin's process group (its PID), killed with it
	conn     *driverplugin.Client
	failures int // consecutive start failures and crashes
	lastFail time.Time
	closed   bool
}

func newSupervisor(spec PluginSpec) *supervisor {
	logger := spec.Logger
	if logger == nil {
		logger = hclog.New(&hclog.LoggerOptions{Name: "mcpauth.plugin." + spec.Provider, Output: os.Stderr, Level: hclog.Info})
	}
	return &supervisor{spec: spec, logger: logger}
}

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
		s.stop(true)
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
	if err := s.start(ctx); err != nil {
		s.failures++
		s.lastFail = time.Now()
		return nil, err
	}
	return s.conn, nil
}

// log is the plugin's logger: the spec's, or stderr.
func (s *supervisor) log() hclog.Logger { return s.logger }

func (s *supervisor) name() string {
	return fmt.Sprintf("driver plugin for provider %q (%s)", s.spec.Provider, s.spec.Path)
}

// start verifies, starts and configures the plugin; s.mu is held. On
// success s.proc, s.pgid and s.conn are set; on failure nothing runs.
func (s *supervisor) start(ctx context.Context) error {
	name := s.name()
	want := s.spec.SHA256
	if s.spec.self == nil && len(want) != sha256.Size {
		return fmt.Errorf("registry: %s: no sha256 configured; run `mcpauth plugin hash %s` and add it as plugin.sha256", name, s.spec.Path)
	}
	if err := driverplugin.CheckNotWritableByOthers(s.spec.Path); err != nil {
		return fmt.Errorf("registry: %s: refusing to run it: %w", name, err)
	}
	if s.spec.self != nil {
		dir, err := pluginCacheDir()
		if err != nil {
			return fmt.Errorf("registry: %s: %w", name, err)
		}
		if want, err = s.spec.self.sha256(dir); err != nil {
			return fmt.Errorf("registry: %s: %w", name, err)
		}
	}
	exe, err := verifiedCopy(s.spec.Path, want)
	if err != nil {
		return fmt.Errorf("registry: %s: %w", name, err)
	}
	logger := s.log()
	var (
		proc *plugin.Client
		cmd  *exec.Cmd
		rpc  plugin.ClientProtocol
	)
	for try := 1; ; try++ {
		cmd = exec.Command(exe, s.spec.Args...)
		cmd.Env = pluginEnv(s.spec.Env, s.spec.ExtraEnv)
		driverplugin.IsolateProcessGroup(cmd)
		mtls, err := driverplugin.NewPluginTLS()
		if err != nil {
			return fmt.Errorf("registry: %s: %w", name, err)
		}
		closeKey, err := mtls.Attach(cmd)
		if err != nil {
			return fmt.Errorf("registry: %s: %w", name, err)
		}
		// A plugin built before driverplugin.PluginTLS answers AutoMTLS.
		cmd.Env = append(cmd.Env, "PLUGIN_CLIENT_CERT="+string(mtls.HostCertPEM))
		proc = plugin.NewClient(&plugin.ClientConfig{
			HandshakeConfig:  driverplugin.Handshake,
			VersionedPlugins: driverplugin.Plugins(nil),
			Cmd:              cmd,
			// No SecureConfig: go-plugin would hash the private copy
			// again, the bytes verifiedCopy checked, in a directory only
			// this user can write (docs/security.md).
			AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
			// Mutual TLS with ephemeral P-256 certificates on both sides
			// (driverplugin.PluginTLS), not go-plugin's P-521 AutoMTLS.
			TLSConfig:       mtls.Config,
			SkipHostEnv:     true,
			StartTimeout:    pluginStartTimeout,
			Logger:          logger,
			GRPCDialOptions: driverplugin.DialOptions(),
			// A plugin's stray prints go to our stderr, never to stdout, which
			// belongs to JSON-RPC.
			SyncStdout: logWriter{logger, "stdout"},
			SyncStderr: logWriter{logger, "stderr"},
		})
		rpc, err = proc.Client()
		closeKey()
		if err == nil {
			break
		}
		pgid := 0
		if cmd.Process != nil {
			pgid = cmd.Process.Pid
		}
		stopPlugin(proc, pgid, true, logger)
		if !errors.Is(err, syscall.ETXTBSY) || try == execRetries {
			return fmt.Errorf("registry: %s failed to start: %s", name, explainStartError(err))
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.proc, s.pgid = proc, cmd.Process.Pid
	fail := func(err error) error {
		s.stop(true)
		return err
	}
	raw, err := rpc.Dispense(driverplugin.PluginName)
	if err != nil {
		return fail(fmt.Errorf("registry: %s: %w", name, err))
	}
	dc, ok := raw.(pb.DriverClient)
	if !ok {
		return fail(fmt.Errorf("registry: %s: go-plugin dispensed a %T, not a driver client", name, raw))
	}
	conn, err := driverplugin.Connect(ctx, dc, s.spec.Config,
		driverplugin.ConnectOptions{RPCTimeout: s.spec.RPCTimeout, VerificationHosts: s.spec.VerificationHosts, Issuer: s.spec.Issuer})
	if err != nil {
		if driverplugin.IsTransport(err) {
			return fail(s.transportError("Configure", err))
		}
		return fail(fmt.Errorf("registry: %s: configuring the driver: %w", name, err))
	}
	s.conn = conn
	return nil
}

// transportError says what became of a plugin that failed a call: it died,
// or it did not answer in time and was stopped.
func (s *supervisor) transportError(rpc string, err error) error {
	var te *driverplugin.TransportError
	if errors.As(err, &te) && te.Timeout > 0 {
		return fmt.Errorf("registry: %s did not answer %s within %s and was stopped; it will be restarted on the next call: %w",
			s.name(), rpc, te.Timeout, err)
	}
	return fmt.Errorf("registry: %s died during %s; it will be restarted on the next call: %w", s.name(), rpc, err)
}

// stop ends the running plugin and every process it started; s.mu is held.
// force kills at once (a plugin that crashed or hung has nothing to say).
func (s *supervisor) stop(force bool) {
	if s.proc == nil {
		return
	}
	stopPlugin(s.proc, s.pgid, force, s.log())
	s.proc, s.pgid, s.conn = nil, 0, nil
}

// stopPlugin asks go-plugin to end proc and kills its process group, so
// that children the plugin started die with it. go-plugin's Kill waits
// until the plugin's output pipes close, which a child holding them would
// delay forever: the group is killed after stopGrace, or at once when
// force is set. A child that left the group (setsid) and still holds the
// pipes cannot be found; Kill is then abandoned after a second grace
// period, with a warning, rather than hanging the host.
func stopPlugin(proc *plugin.Client, pgid int, force bool, logger hclog.Logger) {
	if force {
		driverplugin.KillProcessGroup(pgid)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		proc.Kill()
	}()
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		driverplugin.KillProcessGroup(pgid)
		grace.Reset(stopGrace)
		select {
		case <-done:
		case <-grace.C:
			logger.Warn("plugin left processes outside its process group that hold its output; giving up waiting for them", "pgid", pgid)
			return
		}
	}
	// Children that closed their output are still in the group.
	driverplugin.KillProcessGroup(pgid)
}

// explainStartError turns go-plugin's start errors into advice.
func explainStartError(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "incompatible API version"):
		return fmt.Sprintf("%s: it speaks another version of the mcpauth driver protocol than this host (version %d); rebuild it against a compatible github.com/mcpauth/mcpauth/sdk/driver", msg, driverplugin.ProtocolVersion)
	case strings.Contains(msg, "Unrecognized remote plugin message"), strings.Contains(msg, "plugin exited before we could connect"),
		strings.Contains(msg, "unknown address type"), strings.Contains(msg, "unsupported plugin protocol"),
		strings.Contains(msg, "error parsing"):
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

// crashed records that the plugin died or hung during a call, and stops
// what is left of it.
func (s *supervisor) crashed(conn *driverplugin.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != conn {
		return // already restarted
	}
	s.failures++
	s.lastFail = time.Now()
	s.stop(true)
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
	s.stop(false)
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
