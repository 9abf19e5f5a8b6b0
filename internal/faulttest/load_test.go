package faulttest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mcpgoclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
	"github.com/mcpauth/mcpauth/provider"
)

// loadCallers is the number of concurrent callers in the load tests.
const loadCallers = 1000

// TestLoadRefreshOneRequest: 1,000 concurrent callers holding an expired
// token cause exactly one refresh request at the OP (tokenstore's
// single-flight, the real driver, through the proxy), and all get the same
// new token.
func TestLoadRefreshOneRequest(t *testing.T) {
	w := newWorld(t, worldOptions{})
	ctx := t.Context()
	old := w.loggedIn(ctx)
	w.clk.Advance(time.Hour)
	base, baseProxy := w.op.Requests(w.op.TokenPath()), w.tokenRequests()

	start := make(chan struct{})
	toks := make(chan *provider.Token, loadCallers)
	var failed atomic.Int32
	var wg sync.WaitGroup
	for range loadCallers {
		wg.Go(func() {
			<-start
			tok, err := w.store.Token(ctx, w.key, w.drv)
			if err != nil {
				failed.Add(1)
				return
			}
			toks <- tok
		})
	}
	close(start)
	wg.Wait()
	close(toks)
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d callers failed", n, loadCallers)
	}
	var first *provider.Token
	for tok := range toks {
		if first == nil {
			first = tok
		}
		if tok != first || tok.AccessToken == old.AccessToken {
			t.Fatal("callers got different or old tokens")
		}
	}
	op, px := w.op.Requests(w.op.TokenPath())-base, w.tokenRequests()-baseProxy
	if op != 1 || px != 1 {
		t.Errorf("%d refresh requests at the OP, %d at the proxy; want exactly 1", op, px)
	}
	t.Logf("%d concurrent callers on an expired token: %d failed, %d refresh request(s) at the OP", loadCallers, failed.Load(), op)
}

// TestLoadLoginOneAuthorization: 1,000 concurrent tools/call of a
// protected tool before any login, through the real SDK (the
// internal/testserver binary driven by the mcp-go client over stdio, URL
// elicitation), cause exactly one device authorization at the OP and one
// elicitation, and all succeed.
func TestLoadLoginOneAuthorization(t *testing.T) {
	loginLoad(t, loadCallers)
}

func loginLoad(t *testing.T, callers int) {
	op := zitadelop.Start(t, zitadelop.Options{})
	c, _, elicitations := startServer(t, op, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	start := make(chan struct{})
	var failed atomic.Int32
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			<-start
			if err := call(ctx, c, "ping", "pong"); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d calls failed; first: %v", n, callers, firstErr.Load())
	}
	if n := op.Requests(op.DevicePath()); n != 1 {
		t.Errorf("%d device authorizations at the OP, want 1", n)
	}
	if n := elicitations.Load(); n != 1 {
		t.Errorf("%d elicitations, want 1", n)
	}
	t.Logf("%d concurrent tools/call before login: %d failed, %d device authorization(s), %d elicitation(s), %d token requests at the OP, %v",
		callers, failed.Load(), op.Requests(op.DevicePath()), elicitations.Load(), op.Requests(op.TokenPath()), time.Since(began).Round(time.Millisecond))
}

var (
	serverOnce sync.Once
	serverBin  string
	serverErr  error
)

// buildServer builds internal/testserver once per test binary.
func buildServer(t *testing.T) string {
	t.Helper()
	serverOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mcpauth-faulttest-")
		if err != nil {
			serverErr = err
			return
		}
		serverBin = filepath.Join(dir, "server")
		out, err := exec.Command("go", "build", "-o", serverBin, "../../internal/testserver").CombinedOutput()
		if err != nil {
			serverErr = fmt.Errorf("building internal/testserver: %v\n%s", err, out)
		}
	})
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	return serverBin
}

var userCodeRE = regexp.MustCompile(`\b[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}\b`)

// startServer starts internal/testserver against op (lazy mode, device grant)
// under an mcp-go client whose elicitation handler approves the device
// code at the OP. It returns the client and the count of elicitations.
func startServer(t *testing.T, op *zitadelop.OP, stderr *syncWriter) (*mcpgoclient.Client, *exec.Cmd, *atomic.Int32) {
	t.Helper()
	bin := buildServer(t)
	cmd := exec.Command(bin, "-issuer", op.Issuer, "-client-id", op.ClientID, "-scopes", "openid offline_access", "-grant", "device", "-wait", "30s")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") && !strings.HasPrefix(kv, "SSH_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "HOME="+t.TempDir())
	if stderr == nil {
		stderr = &syncWriter{}
	}
	cmd.Stderr = stderr
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server stderr (tail):\n%s", stderr.Tail(4000))
		}
	})
	var elicitations atomic.Int32
	tr := transport.NewStdioWithOptions(cmd.Path, nil, cmd.Args[1:],
		transport.WithCommandFunc(func(context.Context, string, []string, []string) (*exec.Cmd, error) { return cmd, nil }))
	caps := mcpgo.ClientCapabilities{Elicitation: &mcpgo.ElicitationCapability{Form: &struct{}{}, URL: &struct{}{}}}
	c := mcpgoclient.NewClient(tr, mcpgoclient.WithClientCapabilities(caps), mcpgoclient.WithProtocolVersion("2025-11-25"),
		mcpgoclient.WithElicitationHandler(elicitHandler(func(ctx context.Context, r mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error) {
			elicitations.Add(1)
			action := mcpgo.ElicitationResponseActionCancel
			if code := userCodeRE.FindString(r.Params.Message); code != "" {
				if err := op.ApproveDevice(ctx, code); err != nil {
					t.Errorf("approve %s: %v", code, err)
				} else {
					action = mcpgo.ElicitationResponseActionAccept
				}
			} else {
				t.Errorf("elicitation without a user code: %q", r.Params.Message)
			}
			return &mcpgo.ElicitationResult{ElicitationResponse: mcpgo.ElicitationResponse{Action: action}}, nil
		})))
	// The transport serves the server's requests (elicitations) under the
	// context given to Start: it must live as long as the test.
	if err := c.Start(t.Context()); err != nil {
		t.Fatalf("client start: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	init := mcpgo.InitializeRequest{}
	init.Params.ProtocolVersion = "2025-11-25"
	init.Params.ClientInfo = mcpgo.Implementation{Name: "faulttest", Version: "0"}
	init.Params.Capabilities = caps
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return c, cmd, &elicitations
}

type elicitHandler func(context.Context, mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error)

func (f elicitHandler) Elicit(ctx context.Context, r mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error) {
	return f(ctx, r)
}

// call calls a tool and checks that it answers want (any text if empty).
func call(ctx context.Context, c *mcpgoclient.Client, tool, want string) error {
	req := mcpgo.CallToolRequest{}
	req.Params.Name = tool
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return err
	}
	var text string
	for _, content := range res.Content {
		if tc, ok := content.(mcpgo.TextContent); ok {
			text += tc.Text
		}
	}
	if res.IsError || (want != "" && text != want) {
		return fmt.Errorf("%s answered %q (isError %v)", tool, text, res.IsError)
	}
	return nil
}

// syncWriter collects a subprocess's stderr.
type syncWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	if len(s.buf) > 1<<20 { // keep the last MiB
		s.buf = append([]byte(nil), s.buf[len(s.buf)-1<<19:]...)
	}
	return len(p), nil
}

func (s *syncWriter) Tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) > n {
		return string(s.buf[len(s.buf)-n:])
	}
	return string(s.buf)
}

func (s *syncWriter) Count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(string(s.buf), sub)
}
