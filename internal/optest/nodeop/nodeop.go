package nodeop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configures the provider started by [Start].
type Options struct {
	// IssuerPath is "" or a path such as "/tenant-a": the issuer is then
	// http://127.0.0.1:PORT/tenant-a and the provider is mounted under it.
	IssuerPath string
	// DeviceCodeTTL is the device_code lifetime (whole seconds, rounded up);
	// 0 is the provider's default, 10 minutes.
	DeviceCodeTTL time.Duration
	// AccessTokenTTL is the access token lifetime (whole seconds, rounded
	// up); 0 is the provider's default, 1 hour.
	AccessTokenTTL time.Duration
	// RedirectURIs are registered for the client in addition to
	// http://127.0.0.1/callback. Loopback http URIs match any port.
	RedirectURIs []string
	// NoRefreshToken stops the provider from issuing refresh tokens. By
	// default every device and auth code grant gets one, whether or not
	// offline_access was requested.
	NoRefreshToken bool
}

// OP is a running oidc-provider.
type OP struct {
	// Issuer is the issuer identifier, e.g. http://127.0.0.1:41234 or
	// http://127.0.0.1:41234/tenant-a.
	Issuer string
	// ClientID is the public client's id, "mcpauth-test".
	ClientID string
	// BaseURL is the server's root, http://127.0.0.1:PORT (the issuer
	// without its path).
	BaseURL string

	httpClient *http.Client
}

const (
	clientID     = "mcpauth-test"
	readyTimeout = 30 * time.Second
	// demoLogin is the account devInteractions signs in.
	demoLogin = "alice"
)

// Start runs testdata/server.mjs with node from the repository root and
// returns once the provider listens. The process is killed by t.Cleanup. The
// provider's stderr is logged when the test fails (or always with
// MCPAUTH_NODEOP_LOG=1).
func Start(t testing.TB, opts Options) *OP {
	t.Helper()

	skipOrFatal := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("MCPAUTH_SKIP_NPM_OP") == "1" {
			t.Skipf(format+" (skipped: MCPAUTH_SKIP_NPM_OP=1)", args...)
		}
		t.Fatalf(format, args...)
	}

	root, err := repoRoot()
	if err != nil {
		t.Fatalf("nodeop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "oidc-provider", "package.json")); err != nil {
		skipOrFatal("nodeop: oidc-provider is not installed; run `npm ci` at the repo root")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skipOrFatal("nodeop: node is not installed (%v); oidc-provider needs Node.js", err)
	}
	script := filepath.Join(root, "internal", "optest", "nodeop", "testdata", "server.mjs")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("nodeop: %v", err)
	}
	if opts.IssuerPath != "" && (!strings.HasPrefix(opts.IssuerPath, "/") || strings.HasSuffix(opts.IssuerPath, "/") ||
		strings.ContainsAny(opts.IssuerPath, "?#")) {
		t.Fatalf("nodeop: IssuerPath %q must start with / and not end with /", opts.IssuerPath)
	}

	env := append(os.Environ(),
		"PORT=0",
		"ISSUER_PATH="+opts.IssuerPath,
		"DEVICE_CODE_TTL="+ttlSeconds(opts.DeviceCodeTTL),
		"ACCESS_TOKEN_TTL="+ttlSeconds(opts.AccessTokenTTL),
		"EXTRA_REDIRECT_URIS="+strings.Join(opts.RedirectURIs, " "),
		"ISSUE_REFRESH_TOKEN="+map[bool]string{true: "0", false: "1"}[opts.NoRefreshToken],
		"NODE_ENV=test",
		"NO_COLOR=1",
	)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = root
	cmd.Env = env
	logs := &syncBuffer{}
	ready := make(chan string, 1)
	cmd.Stdout = &readyWriter{ready: ready, extra: logs}
	cmd.Stderr = logs
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("nodeop: start node: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() || os.Getenv("MCPAUTH_NODEOP_LOG") == "1" {
			t.Logf("nodeop: oidc-provider output:\n%s", logs.String())
		}
	})

	var issuer string
	select {
	case issuer = <-ready:
	case <-exited:
		t.Fatalf("nodeop: oidc-provider exited before it was ready (%v); output:\n%s", waitErr, logs.String())
	case <-time.After(readyTimeout):
		t.Fatalf("nodeop: oidc-provider was not ready within %v; output:\n%s", readyTimeout, logs.String())
	}

	base := issuer
	if opts.IssuerPath != "" {
		base = strings.TrimSuffix(issuer, opts.IssuerPath)
	}
	return &OP{
		Issuer:     issuer,
		ClientID:   clientID,
		BaseURL:    base,
		httpClient: &http.Client{Timeout: 30 * time.Second},
	}
}

// Requests returns how many requests the server received for path (no
// query, as the client sent it, issuer path included: "/tenant-a/token").
func (o *OP) Requests(path string) (int, error) {
	m, err := o.RequestCounts()
	if err != nil {
		return 0, err
	}
	return m[path], nil
}

// RequestCounts returns the request count of every path the server received
// (requests under /__test/ are not counted).
func (o *OP) RequestCounts() (map[string]int, error) {
	resp, err := o.httpClient.Get(o.BaseURL + "/__test/requests")
	if err != nil {
		return nil, fmt.Errorf("nodeop: request counts: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("nodeop: request counts: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("nodeop: request counts: HTTP %d (%d bytes)", resp.StatusCode, len(body))
	}
	m := map[string]int{}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("nodeop: request counts: %w", err)
	}
	return m, nil
}

func ttlSeconds(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// repoRoot walks up to the directory holding go.mod, from this source file's
// directory and, failing that (e.g. -trimpath), from the working directory.
func repoRoot() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for d := dir; ; {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				if _, err := os.Stat(filepath.Join(d, "internal", "optest", "nodeop")); err == nil {
					return d, nil
				}
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return "", errors.New("cannot find the repository root (go.mod with internal/optest/nodeop)")
}

// readyWriter receives node's stdout: the first line "READY <issuer>" is sent
// on ready; anything else is kept with the logs.
type readyWriter struct {
	mu    sync.Mutex
	buf   []byte
	done  bool
	ready chan<- string
	extra io.Writer
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		fmt.Fprintf(w.extra, "[stdout] %s", p)
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimSpace(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
		if issuer, ok := strings.CutPrefix(line, "READY "); ok && !w.done {
			w.done = true
			w.ready <- issuer
			if len(w.buf) > 0 {
				fmt.Fprintf(w.extra, "[stdout] %s", w.buf)
			}
			w.buf = nil
			return len(p), nil
		}
		fmt.Fprintf(w.extra, "[stdout] %s\n", line)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
