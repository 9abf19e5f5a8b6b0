package sdk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mcpgoclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	gosdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	v20251125 = "2025-11-25"
	v20260728 = "2026-07-28"
)

// clientConfig describes a real MCP client for a test.
type clientConfig struct {
	lib     string // "mcp-go" or "go-sdk"
	version string // v20251125 or v20260728
	elicit  string // "url" (form and url), "form" (form only) or "none"
	// onElicit answers an elicitation ("accept", "decline", "cancel").
	onElicit func(elicitation) string
	// extensions are declared under capabilities.extensions.
	extensions map[string]any
}

func (c clientConfig) String() string { return c.lib + "/" + c.version + "/" + c.elicit }

// toolResult is a tool call's result, as text.
type toolResult struct {
	Text    string
	IsError bool
}

// testClient is the common face of the Go clients under test.
type testClient interface {
	Call(ctx context.Context, name string, args map[string]any, progressToken any) (toolResult, error)
	Tools(ctx context.Context) ([]string, error)
	// Events lists, in arrival order, "list_changed", "complete:<elicitationId>",
	// "progress:<token>", and the marks added with Mark.
	Events() []string
	Mark(event string)
}

type eventLog struct {
	mu       sync.Mutex
	events   []string
	progress []progressEvent
}

// progressEvent is one notifications/progress as the client received it.
type progressEvent struct {
	Token string
	Value float64
	At    time.Time
}

// markProgress records a progress notification: the "progress:<token>"
// event and, with its value and arrival time, in Progress.
func (l *eventLog) markProgress(token any, value float64) {
	l.Mark(fmt.Sprint("progress:", token))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.progress = append(l.progress, progressEvent{Token: fmt.Sprint(token), Value: value, At: time.Now()})
}

// Progress lists the progress notifications received, in arrival order.
func (l *eventLog) Progress() []progressEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.progress)
}

func (l *eventLog) Mark(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) Events() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func startClient(t testing.TB, sp *serverProc, cfg clientConfig) testClient {
	t.Helper()
	switch cfg.lib {
	case "mcp-go":
		return startMCPGo(t, sp, cfg)
	case "go-sdk":
		return startGoSDK(t, sp, cfg)
	}
	t.Fatalf("unknown client library %q", cfg.lib)
	return nil
}

// --- mcp-go ---

type mcpGoClient struct {
	eventLog
	c *mcpgoclient.Client
}

type elicitFunc func(context.Context, mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error)

func (f elicitFunc) Elicit(ctx context.Context, r mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error) {
	return f(ctx, r)
}

func startMCPGo(t testing.TB, sp *serverProc, cfg clientConfig) testClient {
	t.Helper()
	ctx := testContext(t)
	tr := transport.NewStdioWithOptions(sp.cmd.Path, nil, sp.cmd.Args[1:],
		transport.WithCommandFunc(func(context.Context, string, []string, []string) (*exec.Cmd, error) { return sp.cmd, nil }))
	caps := mcpgo.ClientCapabilities{Extensions: cfg.extensions}
	switch cfg.elicit {
	case "url":
		caps.Elicitation = &mcpgo.ElicitationCapability{Form: &struct{}{}, URL: &struct{}{}}
	case "form":
		caps.Elicitation = &mcpgo.ElicitationCapability{}
	}
	opts := []mcpgoclient.ClientOption{mcpgoclient.WithClientCapabilities(caps), mcpgoclient.WithProtocolVersion(cfg.version)}
	if cfg.elicit != "none" {
		opts = append(opts, mcpgoclient.WithElicitationHandler(elicitFunc(func(ctx context.Context, r mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error) {
			e := elicitation{Mode: r.Params.Mode, Message: r.Params.Message, URL: r.Params.URL, ID: r.Params.ElicitationID, Schema: r.Params.RequestedSchema}
			action := cfg.onElicit(e)
			res := &mcpgo.ElicitationResult{ElicitationResponse: mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseAction(action)}}
			if action == "accept" && e.Mode != "url" {
				res.Content = map[string]any{}
			}
			return res, nil
		})))
	}
	c := &mcpGoClient{c: mcpgoclient.NewClient(tr, opts...)}
	if err := c.c.Start(ctx); err != nil {
		t.Fatalf("mcp-go client start: %v", err)
	}
	t.Cleanup(func() { c.c.Close() })
	c.c.OnNotification(func(n mcpgo.JSONRPCNotification) {
		switch n.Method {
		case "notifications/tools/list_changed":
			c.Mark("list_changed")
		case "notifications/elicitation/complete":
			c.Mark(fmt.Sprint("complete:", n.Params.AdditionalFields["elicitationId"]))
		case "notifications/progress":
			v, _ := n.Params.AdditionalFields["progress"].(float64)
			c.markProgress(n.Params.AdditionalFields["progressToken"], v)
		}
	})
	init, err := c.c.Initialize(ctx, mcpgo.InitializeRequest{Params: mcpgo.InitializeParams{
		ProtocolVersion: cfg.version,
		ClientInfo:      mcpgo.Implementation{Name: "mcpauth-test-mcp-go", Version: "1"},
		Capabilities:    caps,
	}})
	if err != nil {
		t.Fatalf("mcp-go client initialize: %v", err)
	}
	if init.ProtocolVersion != cfg.version {
		t.Fatalf("mcp-go client negotiated %s, want %s", init.ProtocolVersion, cfg.version)
	}
	if cfg.version == v20260728 {
		// 2026-07-28 delivers list_changed only on a subscription.
		stop, err := c.c.ListenAsync(ctx, mcpgo.SubscriptionFilter{ToolsListChanged: true}, nil)
		if err != nil {
			t.Fatalf("subscriptions/listen: %v", err)
		}
		t.Cleanup(stop)
	}
	return c
}

func (c *mcpGoClient) Call(ctx context.Context, name string, args map[string]any, progressToken any) (toolResult, error) {
	var req mcpgo.CallToolRequest
	req.Params.Name = name
	req.Params.Arguments = args
	if progressToken != nil {
		req.Params.Meta = &mcpgo.Meta{ProgressToken: progressToken}
	}
	res, err := c.c.CallTool(ctx, req)
	if err != nil {
		return toolResult{}, err
	}
	var b strings.Builder
	for _, content := range res.Content {
		if tc, ok := content.(mcpgo.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return toolResult{Text: b.String(), IsError: res.IsError}, nil
}

func (c *mcpGoClient) Tools(ctx context.Context) ([]string, error) {
	res, err := c.c.ListTools(ctx, mcpgo.ListToolsRequest{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range res.Tools {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return names, nil
}

// --- go-sdk ---

type goSDKClient struct {
	eventLog
	s *gosdk.ClientSession
}

func startGoSDK(t testing.TB, sp *serverProc, cfg clientConfig) testClient {
	t.Helper()
	ctx := testContext(t)
	c := &goSDKClient{}
	caps := &gosdk.ClientCapabilities{Extensions: cfg.extensions}
	switch cfg.elicit {
	case "url":
		caps.Elicitation = &gosdk.ElicitationCapabilities{Form: &gosdk.FormElicitationCapabilities{}, URL: &gosdk.URLElicitationCapabilities{}}
	case "form":
		caps.Elicitation = &gosdk.ElicitationCapabilities{Form: &gosdk.FormElicitationCapabilities{}}
	}
	opts := &gosdk.ClientOptions{
		Capabilities: caps,
		ElicitationCompleteHandler: func(_ context.Context, r *gosdk.ElicitationCompleteNotificationRequest) {
			c.Mark("complete:" + r.Params.ElicitationID)
		},
		ToolListChangedHandler: func(context.Context, *gosdk.ToolListChangedRequest) { c.Mark("list_changed") },
		ProgressNotificationHandler: func(_ context.Context, r *gosdk.ProgressNotificationClientRequest) {
			c.markProgress(r.Params.ProgressToken, r.Params.Progress)
		},
	}
	if cfg.elicit != "none" {
		opts.ElicitationHandler = func(_ context.Context, r *gosdk.ElicitRequest) (*gosdk.ElicitResult, error) {
			p := r.Params
			e := elicitation{Mode: p.Mode, Message: p.Message, URL: p.URL, ID: p.ElicitationID, Schema: p.RequestedSchema}
			action := cfg.onElicit(e)
			res := &gosdk.ElicitResult{Action: action}
			if action == "accept" && e.Mode != "url" {
				res.Content = map[string]any{}
			}
			return res, nil
		}
	}
	client := gosdk.NewClient(&gosdk.Implementation{Name: "mcpauth-test-go-sdk", Version: "1"}, opts)
	s, err := client.Connect(ctx, &gosdk.CommandTransport{Command: sp.cmd}, &gosdk.ClientSessionOptions{ProtocolVersion: cfg.version})
	if err != nil {
		t.Fatalf("go-sdk connect: %v", err)
	}
	if got := s.InitializeResult().ProtocolVersion; got != cfg.version {
		t.Fatalf("go-sdk client negotiated %s, want %s", got, cfg.version)
	}
	t.Cleanup(func() { s.Close() })
	c.s = s
	return c
}

func (c *goSDKClient) Call(ctx context.Context, name string, args map[string]any, progressToken any) (toolResult, error) {
	params := &gosdk.CallToolParams{Name: name, Arguments: args}
	if progressToken != nil {
		params.SetProgressToken(progressToken)
	}
	res, err := c.s.CallTool(ctx, params)
	if err != nil {
		return toolResult{}, err
	}
	var b strings.Builder
	for _, content := range res.Content {
		if tc, ok := content.(*gosdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return toolResult{Text: b.String(), IsError: res.IsError}, nil
}

func (c *goSDKClient) Tools(ctx context.Context) ([]string, error) {
	res, err := c.s.ListTools(ctx, nil)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range res.Tools {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return names, nil
}

// --- raw JSON-RPC, for wire-level assertions ---

// rawClient speaks JSON-RPC lines to the server directly and records every
// byte the server writes to stdout.
type rawClient struct {
	t      testing.TB
	modern bool
	caps   map[string]any
	stdin  io.WriteCloser
	msgs   chan map[string]any
	stdout *syncBuffer

	mu     sync.Mutex
	nextID int

	closeOnce sync.Once
	close     func()
}

// Close closes the server's stdin and waits for it to exit.
func (r *rawClient) Close() { r.closeOnce.Do(r.close) }

func startRaw(t testing.TB, sp *serverProc, modern bool, caps map[string]any) *rawClient {
	t.Helper()
	r := &rawClient{t: t, modern: modern, caps: caps, msgs: make(chan map[string]any, 1000), stdout: &syncBuffer{}}
	stdin, err := sp.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sp.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.stdin = stdin
	if err := sp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(io.TeeReader(out, r.stdout))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("server wrote a non-JSON line to stdout: %q", sc.Text())
				continue
			}
			r.msgs <- m
		}
	}()
	r.close = func() {
		stdin.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			sp.cmd.Process.Kill()
		}
		sp.cmd.Wait()
	}
	t.Cleanup(r.Close)
	if !modern {
		id := r.Send("initialize", map[string]any{
			"protocolVersion": v20251125,
			"capabilities":    caps,
			"clientInfo":      map[string]any{"name": "mcpauth-test-raw", "version": "1"},
		})
		r.Response(testContext(t), id)
		r.Notify("notifications/initialized", nil)
	}
	return r
}

func (r *rawClient) write(m map[string]any) {
	b, err := json.Marshal(m)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.stdin.Write(append(b, '\n')); err != nil {
		r.t.Errorf("write to server: %v", err)
	}
}

// Send sends a request and returns its id. Modern clients carry the
// protocol version, capabilities and client info in _meta.
func (r *rawClient) Send(method string, params map[string]any) int {
	r.mu.Lock()
	r.nextID++
	id := r.nextID
	r.mu.Unlock()
	if params == nil {
		params = map[string]any{}
	}
	if r.modern {
		meta, _ := params["_meta"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
		}
		meta["io.modelcontextprotocol/protocolVersion"] = v20260728
		meta["io.modelcontextprotocol/clientCapabilities"] = r.caps
		meta["io.modelcontextprotocol/clientInfo"] = map[string]any{"name": "mcpauth-test-raw", "version": "1"}
		params["_meta"] = meta
	}
	r.write(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	return id
}

func (r *rawClient) Notify(method string, params map[string]any) {
	m := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		m["params"] = params
	}
	r.write(m)
}

// Reply answers a request the server sent.
func (r *rawClient) Reply(id any, result any) {
	r.write(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
}

// Next returns the next message from the server.
func (r *rawClient) Next(ctx context.Context) map[string]any {
	select {
	case m := <-r.msgs:
		return m
	case <-ctx.Done():
		r.t.Fatalf("no message from the server: %v", ctx.Err())
		return nil
	}
}

// Response skips messages until the response to id and returns its result
// (failing on an error response).
func (r *rawClient) Response(ctx context.Context, id int) map[string]any {
	for {
		m := r.Next(ctx)
		if m["method"] != nil {
			continue
		}
		if fmt.Sprint(m["id"]) == fmt.Sprint(id) {
			if m["error"] != nil {
				r.t.Fatalf("request %d failed: %v", id, m["error"])
			}
			res, _ := m["result"].(map[string]any)
			return res
		}
	}
}

// resultText joins a tool result's text contents.
func resultText(res map[string]any) string {
	var b strings.Builder
	content, _ := res["content"].([]any)
	for _, c := range content {
		if m, ok := c.(map[string]any); ok && m["type"] == "text" {
			b.WriteString(fmt.Sprint(m["text"]))
		}
	}
	return b.String()
}
