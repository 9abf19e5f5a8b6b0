package registry

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"

	"github.com/mcpauth/mcpauth/provider"
)

// The faulty plugin (testdata/faultyplugin) is built at most once per test
// binary, on first use, so that -run filters that need no plugin build
// nothing; TestMain removes it.
var (
	faultyOnce sync.Once
	faultyPath string
	faultySum  []byte
	faultyErr  error
	faultyDir  string
)

func faultyPlugin(t *testing.T) (string, []byte) {
	t.Helper()
	faultyOnce.Do(func() {
		if faultyDir, faultyErr = os.MkdirTemp("", "mcpauth-faulty-"); faultyErr != nil {
			return
		}
		faultyPath = filepath.Join(faultyDir, "faultyplugin")
		// No symbol table or DWARF: linking is the slow part of the build.
		args := []string{"build", "-ldflags=-s -w", "-o", faultyPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "./testdata/faultyplugin")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			faultyErr = &buildError{err: err, out: out}
			return
		}
		var sum string
		sum, faultyErr = fileSHA256(faultyPath)
		faultySum, _ = hex.DecodeString(sum)
	})
	if faultyErr != nil {
		t.Fatalf("building the faulty plugin: %v", faultyErr)
	}
	return faultyPath, faultySum
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + ": " + string(e.out) }

// logBuffer collects a plugin's host-side log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// faulty opens the faulty plugin in mode; the fault happens once (the
// restarted plugin behaves). The row's goroutines are checked for leaks
// after the plugin is closed.
func faulty(t *testing.T, mode string, edit func(*PluginSpec)) (*PluginDriver, *logBuffer) {
	t.Helper()
	path, sum := faultyPlugin(t)
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	logs := &logBuffer{}
	spec := PluginSpec{Provider: "faulty", Path: path, SHA256: sum,
		ExtraEnv: []string{"FAULTY_MODE=" + mode, "FAULTY_ONCE=" + filepath.Join(t.TempDir(), "once")},
		Config:   provider.DriverConfig{Issuer: "https://as.example", ClientID: "client-1"},
		Logger:   hclog.New(&hclog.LoggerOptions{Name: "faulty", Output: logs, Level: hclog.Debug}),
	}
	if edit != nil {
		edit(&spec)
	}
	p := OpenPlugin(spec)
	t.Cleanup(p.Close)
	return p, logs
}

// faultCalls makes one call per RPC; Configure is reached by any first call.
var faultCalls = map[string]func(ctx context.Context, p *PluginDriver) error{
	"Configure": func(ctx context.Context, p *PluginDriver) error { _, err := p.Metadata(ctx); return err },
	"Metadata":  func(ctx context.Context, p *PluginDriver) error { _, err := p.Metadata(ctx); return err },
	"StartDevice": func(ctx context.Context, p *PluginDriver) error {
		_, err := p.StartDevice(ctx, nil)
		return err
	},
	"PollDevice": func(ctx context.Context, p *PluginDriver) error {
		_, err := p.PollDevice(ctx, &provider.DeviceAuthorization{DeviceCode: "dc"})
		return err
	},
	"AuthCodeURL": func(ctx context.Context, p *PluginDriver) error {
		_, err := p.AuthCodeURL(ctx, provider.AuthCodeRequest{State: "s", RedirectURI: "http://127.0.0.1:1/cb"})
		return err
	},
	"Exchange": func(ctx context.Context, p *PluginDriver) error {
		_, err := p.Exchange(ctx, "code", "verifier", "http://127.0.0.1:1/cb")
		return err
	},
	"Refresh": func(ctx context.Context, p *PluginDriver) error {
		_, err := p.Refresh(ctx, &provider.Token{AccessToken: "old", RefreshToken: "rt"})
		return err
	},
	"Identity": func(ctx context.Context, p *PluginDriver) error {
		_, err := p.Identity(ctx, &provider.Token{AccessToken: "at"})
		return err
	},
}

// within runs f and fails the test if it takes longer than limit; a call
// that never returns must not hang the suite.
func within(t *testing.T, limit time.Duration, what string, f func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(limit):
		t.Fatalf("%s did not return within %s", what, limit)
		return 0
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
}

// A plugin that crashes inside an RPC fails that call with an error naming
// the plugin and the RPC; the next call starts a fresh process and works.
func TestFaultCrashAtEachRPC(t *testing.T) {
	ctx := context.Background()
	for _, rpc := range []string{"Configure", "Metadata", "StartDevice", "PollDevice", "AuthCodeURL", "Exchange", "Refresh", "Identity"} {
		t.Run(rpc, func(t *testing.T) {
			p, _ := faulty(t, "crash:"+rpc, nil)
			if rpc != "Configure" {
				if err := p.Start(ctx); err != nil {
					t.Fatal(err)
				}
			}
			first := p.PID()
			var err error
			within(t, 30*time.Second, rpc, func() { err = faultCalls[rpc](ctx, p) })
			wantErr(t, err, `driver plugin for provider "faulty"`, "died during "+rpc, "restarted on the next call")
			within(t, 30*time.Second, rpc+" after the crash", func() { err = faultCalls[rpc](ctx, p) })
			if err != nil {
				t.Fatalf("%s after a restart: %v", rpc, err)
			}
			if pid := p.PID(); pid == 0 || pid == first {
				t.Fatalf("PID after the restart = %d (before %d)", pid, first)
			}
		})
	}
}

// Challenge has no error to return: a crash means "not a challenge", is
// logged, and the next challenge goes to a fresh process.
func TestFaultCrashAtChallenge(t *testing.T) {
	p, logs := faulty(t, "crash:Challenge", nil)
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := p.PID()
	resp := provider.APIResponse{StatusCode: http.StatusForbidden, Header: http.Header{}}
	var ok bool
	within(t, 30*time.Second, "Challenge", func() { _, ok = p.Challenge(resp) })
	if ok {
		t.Fatal("a crashed plugin's challenge counted as a scope challenge")
	}
	if l := logs.String(); !strings.Contains(l, "died during Challenge") || !strings.Contains(l, `provider \"faulty\"`) {
		t.Fatalf("the crash is not in the log:\n%s", l)
	}
	var sc *provider.ScopeChallenge
	within(t, 30*time.Second, "Challenge after the crash", func() { sc, ok = p.Challenge(resp) })
	if !ok || sc == nil || len(sc.Scopes) != 1 {
		t.Fatalf("Challenge after a restart = %v, %v", sc, ok)
	}
	if pid := p.PID(); pid == 0 || pid == first {
		t.Fatalf("PID after the restart = %d (before %d)", pid, first)
	}
}

// A plugin that never answers fails the call within the per-RPC bound,
// even when the caller's context has no deadline (or a longer one), is
// stopped, and the next call works in a fresh process.
func TestFaultHangPastTheDeadline(t *testing.T) {
	const bound = 500 * time.Millisecond
	const slack = 3 * time.Second
	for _, rpc := range []string{"Configure", "Metadata", "PollDevice"} {
		t.Run(rpc, func(t *testing.T) {
			p, _ := faulty(t, "hang:"+rpc, func(s *PluginSpec) { s.RPCTimeout = bound })
			ctx := context.Background()
			if rpc == "PollDevice" {
				// The caller's own deadline is far away: the bound still holds.
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Hour)
				defer cancel()
			}
			if rpc != "Configure" {
				if err := p.Start(ctx); err != nil {
					t.Fatal(err)
				}
			}
			first := p.PID()
			var err error
			took := within(t, bound+2*slack, rpc, func() { err = faultCalls[rpc](ctx, p) })
			if took > bound+slack {
				t.Errorf("%s took %s with a %s bound", rpc, took, bound)
			}
			wantErr(t, err, `driver plugin for provider "faulty"`, "did not answer "+rpc+" within 500ms", "restarted on the next call")
			within(t, 30*time.Second, rpc+" after the hang", func() { err = faultCalls[rpc](ctx, p) })
			if err != nil {
				t.Fatalf("%s after a restart: %v", rpc, err)
			}
			if pid := p.PID(); pid == 0 || pid == first {
				t.Fatalf("PID after the restart = %d (before %d)", pid, first)
			}
		})
	}
}

// A binary that does not complete go-plugin's handshake fails the first
// call quickly, with advice, and the host goes on.
func TestFaultBadHandshake(t *testing.T) {
	for _, mode := range []string{"garbage", "silent"} {
		t.Run(mode, func(t *testing.T) {
			p, _ := faulty(t, mode, nil)
			var err error
			within(t, 15*time.Second, "Metadata", func() { _, err = p.Metadata(context.Background()) })
			wantErr(t, err, `driver plugin for provider "faulty"`, "failed to start", "not an mcpauth driver plugin")
		})
	}
}

// A response over the protocol's message bound is refused, whether the
// plugin's side (the SDK) or only the host's side enforces it.
func TestFaultHugeResponse(t *testing.T) {
	for _, mode := range []string{"huge", "huge-unbounded"} {
		t.Run(mode, func(t *testing.T) {
			p, _ := faulty(t, mode, nil)
			m, err := p.Metadata(context.Background())
			if err == nil {
				t.Fatalf("a %d-byte metadata document was accepted", len(m.ScopesSupported[0]))
			}
			wantErr(t, err, `provider "faulty"`, "Metadata", "4 MiB limit")
			// The plugin is alive and still answers within the bound.
			if _, err := p.StartDevice(context.Background(), nil); err != nil {
				t.Fatalf("StartDevice after the refused Metadata: %v", err)
			}
		})
	}
}

// Children a plugin starts (here a shell holding the plugin's stdout, and
// its own child) die with it when the registry closes: the plugin runs in a
// process group of its own, and the host kills the group.
func TestFaultForkedChildrenDieWithThePlugin(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	p, _ := faulty(t, "fork", func(s *PluginSpec) { s.ExtraEnv = append(s.ExtraEnv, "FAULTY_PIDS="+pidFile) })
	if _, err := p.Metadata(context.Background()); err != nil {
		t.Fatal(err)
	}
	var pids []int
	deadline := time.Now().Add(5 * time.Second)
	for len(pids) < 2 && time.Now().Before(deadline) {
		pids = pids[:0]
		raw, _ := os.ReadFile(pidFile)
		for _, f := range strings.Fields(string(raw)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(pids) < 2 {
		t.Fatalf("the plugin's children wrote PIDs %v, want 2", pids)
	}
	t.Cleanup(func() { // whatever happens, leave nothing behind
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("child %d is not running before Close", pid)
		}
	}
	within(t, 10*time.Second, "Close", p.Close)
	deadline = time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("child %d still runs after the registry closed the plugin", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
