package wrap_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/sdk"
	"github.com/mcpauth/mcpauth/wrap"
)

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testGate is a login core with a token the test sets: without one, a
// call gets a URL elicitation, and accept "logs in" with next.
type testGate struct {
	mu       sync.Mutex
	token    string
	next     string
	explicit bool
	list     sdk.ToolList
	elicited int
	answers  []string
}

func (g *testGate) setToken(tok string) {
	g.mu.Lock()
	g.token = tok
	g.mu.Unlock()
}

func (g *testGate) Current(context.Context) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.token, nil
}

func (g *testGate) login(req *sdk.Request) (string, *sdk.Result) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.token != "" {
		return g.token, nil
	}
	if req.Answer == nil {
		g.elicited++
		return "", &sdk.Result{Input: &sdk.Elicitation{Mode: "url", URL: "https://op.example/device", Message: "Enter BCDF-GHJK", ElicitationID: "elicit-1"}, RequestState: "state-1"}
	}
	g.answers = append(g.answers, req.Answer.Action+"/"+req.RequestState)
	if req.Answer.Action != "accept" {
		return "", &sdk.Result{Text: "the login was declined; the tool did not run", IsError: true}
	}
	g.token = g.next
	return g.token, nil
}

func (g *testGate) Call(ctx context.Context, req *sdk.Request, run func(context.Context, string) error) *sdk.Result {
	tok, res := g.login(req)
	if res != nil {
		return res
	}
	if err := run(ctx, tok); err != nil {
		return &sdk.Result{Text: err.Error(), IsError: true}
	}
	return nil
}

func (g *testGate) AuthTools() []sdk.AuthTool {
	if !g.explicit {
		return nil
	}
	return []sdk.AuthTool{{Name: "auth_login", Description: "log in"}}
}

// CallAuthTool is auth_login: the login, then the server's tools listed,
// as sdk's explicit mode does.
func (g *testGate) CallAuthTool(ctx context.Context, name string, req *sdk.Request, args map[string]any) *sdk.Result {
	if _, res := g.login(req); res != nil {
		return res
	}
	g.mu.Lock()
	l := g.list
	g.mu.Unlock()
	l.ChangeTools([]string{wrap.ServerTools}, nil)
	return &sdk.Result{Text: "logged in"}
}

// Bind lists the server's tools at once in lazy mode, auth_login only in
// explicit mode.
func (g *testGate) Bind(l sdk.ToolList) error {
	g.mu.Lock()
	g.list = l
	g.mu.Unlock()
	if g.explicit {
		l.ChangeTools([]string{"auth_login"}, nil)
	} else {
		l.ChangeTools([]string{wrap.ServerTools}, nil)
	}
	return nil
}

var pidRE = regexp.MustCompile(`pid=(\d+)`)

func pidOf(t *testing.T, s string) string {
	t.Helper()
	m := pidRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no pid in %q", s)
	}
	return m[1]
}

// childLog reads the CHILD_LOG file: one "pid placeholder=… method" line
// per request a run of the child received.
func childLog(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestWrapLazyLoginRestartAndIDs: a lazy proxy without a token lists the
// tools of a run started with the placeholder, logs in through a URL
// elicitation on the first call, restarts the server with the token, and,
// when the token changes, drains the call in flight (a server-initiated
// request the host answers late) before restarting again. Host IDs come
// back as the host sent them, whatever their type.
func TestWrapLazyLoginRestartAndIDs(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "child.log")
	g := &testGate{next: "tok-A"}
	h := startProxy(t, g, "CHILD_LOG="+logPath)

	init := h.initialize()
	if info, _ := init["serverInfo"].(map[string]any); info["name"] != "childserver" || info["version"] != "1.2.3" {
		t.Errorf("serverInfo %v, want the wrapped server's", init["serverInfo"])
	}
	if caps, _ := init["capabilities"].(map[string]any); caps["resources"] == nil || caps["tools"] == nil {
		t.Errorf("capabilities %v, want the wrapped server's (tools and resources)", init["capabilities"])
	}
	// Two requests whose IDs differ only in type.
	list := h.call(`"1"`, "tools/list", map[string]any{})
	if names := toolNames(t, list); !slices.Contains(names, "whoami") || !slices.Contains(names, "roots") {
		t.Fatalf("tools %v", names)
	}
	// The first call: login through the host, then the call on a run with the token.
	who := h.start(`1`, "tools/call", map[string]any{"name": "whoami"})
	e := h.request("elicitation/create")
	var ep map[string]any
	_ = json.Unmarshal(e.Params, &ep)
	if ep["mode"] != "url" || ep["url"] != "https://op.example/device" || ep["elicitationId"] != "elicit-1" {
		t.Errorf("elicitation/create params %v", ep)
	}
	h.reply(e.ID, map[string]any{"action": "accept"})
	first := text(h.wait(who, "whoami 1"))
	if !strings.HasPrefix(first, "token=tok-A ") {
		t.Fatalf("whoami after login = %q, want token=tok-A", first)
	}
	if got := g.answers; !slices.Equal(got, []string{"accept/state-1"}) {
		t.Errorf("answers the gate saw %v, want [accept/state-1] (the requestState echoed)", got)
	}

	// A call in flight at the tok-A run: the server asks the host for roots.
	roots := h.start(`{"n":2}`, "tools/call", map[string]any{"name": "roots"})
	rq := h.request("roots/list")
	// The token changes (a refresh); the next call must wait for the one in flight.
	g.setToken("tok-B")
	who2 := h.start(`3`, "tools/call", map[string]any{"name": "whoami"})
	h.reply(rq.ID, map[string]any{"roots": []map[string]any{{"uri": "file:///work", "name": "work"}}})
	if got := text(h.wait(roots, "roots")); got != "roots: file:///work" {
		t.Errorf("roots = %q", got)
	}
	second := text(h.wait(who2, "whoami 3"))
	if !strings.HasPrefix(second, "token=tok-B ") || pidOf(t, second) == pidOf(t, first) {
		t.Errorf("whoami after the token changed = %q (first run: %q), want tok-B on a new run", second, first)
	}
	arr := h.arrivals()
	if i, j := slices.Index(arr, `resp:{"n":2}`), slices.Index(arr, "resp:3"); i < 0 || j < 0 || i > j {
		t.Errorf("arrivals %v: want the call in flight answered before the call that restarted the server", arr)
	}
	for _, a := range arr {
		if strings.HasPrefix(a, "unexpected:") {
			t.Errorf("an answer to an ID the host never used: %v", arr)
		}
	}
	// The restarted run got notifications/initialized: it may notify.
	note := h.call(`4`, "tools/call", map[string]any{"name": "notify", "_meta": map[string]any{"progressToken": "pt-9"}})
	if got := text(note); got != "sent" {
		t.Errorf("notify on the restarted run = %q", got)
	}
	if p := h.waitNote("notifications/progress"); !strings.Contains(string(p.Params), `"pt-9"`) {
		t.Errorf("progress %s, want the host's token pt-9", p.Params)
	}
	h.waitNote("notifications/message")
	waitCounts(t, h, "initialized=1", "on the restarted run (the replayed notifications/initialized)")

	// The placeholder run saw only the handshake and tools/list.
	var runs []string
	for _, line := range childLog(t, logPath) {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		if !slices.Contains(runs, f[0]) {
			runs = append(runs, f[0])
		}
		if f[1] == "placeholder=true" && f[2] != "initialize" && f[2] != "tools/list" && f[2] != "notifications/initialized" {
			t.Errorf("the placeholder run received %s", f[2])
		}
	}
	if len(runs) != 3 {
		t.Errorf("%d runs of the server (%v), want 3: placeholder, tok-A, tok-B", len(runs), runs)
	}
}

// TestWrapDecline: a declined login answers the call with the gate's
// result and nothing reaches the server but the handshake and tools/list.
func TestWrapDecline(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "child.log")
	g := &testGate{next: "tok-A"}
	h := startProxy(t, g, "CHILD_LOG="+logPath)
	h.initialize()
	h.call(`1`, "tools/list", nil)
	call := h.start(`2`, "tools/call", map[string]any{"name": "whoami"})
	e := h.request("elicitation/create")
	h.reply(e.ID, map[string]any{"action": "decline"})
	if got := text(h.wait(call, "whoami")); got != "ISERROR: the login was declined; the tool did not run" {
		t.Errorf("declined call = %q", got)
	}
	// Resources may call the API: refused without a login.
	if got := text(h.call(`3`, "resources/list", nil)); !strings.Contains(got, "ERROR -32001") {
		t.Errorf("resources/list before a login = %q, want a -32001 refusal", got)
	}
	for _, line := range childLog(t, logPath) {
		if strings.Contains(line, "tools/call") || strings.Contains(line, "resources/") {
			t.Errorf("the server received %q before any login", line)
		}
	}
}

// TestWrapChildExitsMidCall: a server that dies during a call gives that
// call a clear error; the next call starts it again.
func TestWrapChildExitsMidCall(t *testing.T) {
	g := &testGate{token: "tok-A"}
	h := startProxy(t, g)
	h.initialize()
	before := text(h.call(`1`, "tools/call", map[string]any{"name": "whoami"}))
	died := h.call(`2`, "tools/call", map[string]any{"name": "exit"})
	if died.Error == nil || !strings.Contains(died.Error.Message, "exited before answering") || !strings.Contains(died.Error.Message, "exit status 3") ||
		!strings.Contains(died.Error.Message, "restarted on the next request") {
		t.Fatalf("the call the server died in got %q, want an error naming the exit and the restart", text(died))
	}
	after := text(h.call(`3`, "tools/call", map[string]any{"name": "whoami"}))
	if !strings.HasPrefix(after, "token=tok-A ") || pidOf(t, after) == pidOf(t, before) {
		t.Errorf("whoami after the exit = %q (before: %q), want a new run with the token", after, before)
	}
	if !strings.Contains(h.stderr.String(), "the wrapped server exited") || !strings.Contains(h.stderr.String(), "childserver: exiting mid-call") {
		t.Errorf("stderr lacks the exit log line or the server's own stderr:\n%s", h.stderr.String())
	}
}

// TestWrapCancelAndHostNotifications: the host's cancellation reaches the
// server under the ID the server knows, no answer comes back for it, and
// other notifications from the host reach the server.
func TestWrapCancelAndHostNotifications(t *testing.T) {
	g := &testGate{token: "tok-A"}
	h := startProxy(t, g)
	h.initialize()
	blocked := h.start(`"b"`, "tools/call", map[string]any{"name": "block"})
	// Cancel only once the call runs in the server.
	waitCounts(t, h, "blocking=1 cancelled=0", "before the cancellation")
	h.notify("notifications/cancelled", map[string]any{"requestId": "b", "reason": "user"})
	h.notify("notifications/roots/list_changed", nil)
	waitCounts(t, h, "cancelled=1 rootsChanged=1", "after the cancellation")
	select {
	case m := <-blocked:
		t.Errorf("the cancelled call was answered: %q", text(m))
	default:
	}
}

// waitCounts polls the counts tool until it shows want; the bound is
// generous and only ends a test that would hang.
func waitCounts(t *testing.T, h *rawHost, want, what string) {
	t.Helper()
	var got string
	for i := 0; i < 400; i++ {
		got = text(h.call(`"counts-`+time.Now().Format("150405.000000000")+`"`, "tools/call", map[string]any{"name": "counts"}))
		if strings.Contains(got, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("counts %s = %q, want %q", what, got, want)
}

// TestWrapExplicit: explicit mode lists only the gate's tools until the
// login, does not start the server before it, and sends list_changed
// before auth_login's result.
func TestWrapExplicit(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "child.log")
	g := &testGate{next: "tok-A", explicit: true}
	h := startProxy(t, g, "CHILD_LOG="+logPath)
	init := h.initialize()
	if caps, _ := init["capabilities"].(map[string]any); caps["tools"] == nil {
		t.Errorf("capabilities %v lack tools", init["capabilities"])
	}
	if names := toolNames(t, h.call(`1`, "tools/list", nil)); !slices.Equal(names, []string{"auth_login"}) {
		t.Errorf("tools before login %v, want [auth_login]", names)
	}
	if _, err := os.Stat(logPath); !os.IsNotExist(err) {
		t.Errorf("the server ran before the login (log: %v)", childLog(t, logPath))
	}
	login := h.start(`2`, "tools/call", map[string]any{"name": "auth_login"})
	e := h.request("elicitation/create")
	h.reply(e.ID, map[string]any{"action": "accept"})
	if got := text(h.wait(login, "auth_login")); got != "logged in" {
		t.Errorf("auth_login = %q", got)
	}
	arr := h.arrivals()
	if i, j := slices.Index(arr, "note:notifications/tools/list_changed"), slices.Index(arr, "resp:2"); i < 0 || i > j {
		t.Errorf("arrivals %v: want list_changed before the auth_login result", arr)
	}
	names := toolNames(t, h.call(`3`, "tools/list", nil))
	if !slices.Contains(names, "whoami") || !slices.Contains(names, "auth_login") {
		t.Errorf("tools after login %v, want the server's and auth_login", names)
	}
	if got := text(h.call(`4`, "tools/call", map[string]any{"name": "whoami"})); !strings.HasPrefix(got, "token=tok-A ") {
		t.Errorf("whoami = %q", got)
	}
	waitCounts(t, h, "initialized=1", "on the run started after the host's initialized")
}

// TestWrapChildPrintsToStdout: a line the server prints to stdout that is
// not JSON-RPC never reaches the host (startProxy fails the test if any
// line it got is not JSON-RPC); the log says it was dropped.
func TestWrapChildPrintsToStdout(t *testing.T) {
	g := &testGate{token: "tok-A"}
	h := startProxy(t, g, "CHILD_NOISE=1")
	h.initialize()
	if got := text(h.call(`1`, "tools/call", map[string]any{"name": "whoami"})); !strings.HasPrefix(got, "token=tok-A ") {
		t.Errorf("whoami = %q", got)
	}
	if log := h.stderr.String(); !strings.Contains(log, "not JSON-RPC; dropped") || strings.Contains(log, "starting up") {
		t.Errorf("the log should say a line was dropped, without quoting it:\n%s", log)
	}
}
