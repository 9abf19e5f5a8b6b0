// Package gosdk is mcpauth's adapter for servers built on the official Go
// MCP SDK (github.com/modelcontextprotocol/go-sdk): Protect adds a tool
// whose handler runs once the tokens it needs are there, Run serves the
// server on the process's claimed stdio. What happens in between — logins,
// how they are shown, step-up, the auth tools — is package sdk's
// transport-neutral core.
//
//	auth, err := sdk.New(ctx, sdk.Options{Providers: …})
//	s := mcp.NewServer(&mcp.Implementation{Name: "my-server", Version: "1.0.0"}, nil)
//	gosdk.Protect(auth, s, &mcp.Tool{Name: "list_repos", InputSchema: …}, handler, sdk.Need("github", "repo"))
//	err = gosdk.Run(ctx, auth, s)
package gosdk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth/sdk"
)

// protocolMultiRoundTrip is the first MCP version with input_required
// results and no server-initiated requests.
const protocolMultiRoundTrip = "2026-07-28"

// Protect adds tool to s with a handler that runs only once the tokens in
// needs are there: in lazy mode a call without them starts (or joins) the
// login and shows it to the user; in explicit mode the tool is listed once
// every provider it needs is logged in. The handler reads the tokens with
// sdk.Token and sdk.HTTPClient, and its arguments from
// req.Params.Arguments (raw JSON). A tool that needs a provider nobody
// configured, or that go-sdk would refuse (no input schema, say), is not
// added; Run (and auth.Err) report the mistake before serving. One Auth
// protects one server.
func Protect(auth *sdk.Auth, s *mcp.Server, tool *mcp.Tool, handler mcp.ToolHandler, needs ...sdk.Requirement) {
	ad := attach(auth, s)
	if ad == nil {
		return
	}
	if tool == nil || tool.InputSchema == nil {
		name := ""
		if tool != nil {
			name = tool.Name
		}
		auth.SetupError(fmt.Errorf("mcpauth: tool %q: no InputSchema (go-sdk requires one; use map[string]any{\"type\": \"object\"} for none)", name))
		return
	}
	// go-sdk panics on a tool it refuses; find out now, on a scratch
	// server, rather than when the tool is first listed.
	if err := addTool(mcp.NewServer(&mcp.Implementation{Name: "check"}, nil), serverTool{tool: tool, handler: handler}); err != nil {
		auth.SetupError(err)
		return
	}
	ad.add(tool, ad.handler(handler, needs))
	if err := auth.Protected(tool.Name, needs...); err != nil {
		ad.remove(tool.Name)
	}
}

// Run serves s over stdio until ctx is done or the client closes stdin.
// It refuses to start while a set-up error is recorded (auth.Err). It first
// claims fds 0 and 1 for the MCP transport (sdk.Auth.Stdio), so no library
// print or child process can corrupt the JSON-RPC stream. Logins running in
// the background stop when it returns.
func Run(ctx context.Context, auth *sdk.Auth, s *mcp.Server) error {
	attach(auth, s)
	defer auth.Close()
	in, out, err := auth.Stdio()
	if err != nil {
		return err
	}
	err = s.Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(in), Writer: nopCloser{out}})
	if err == io.EOF {
		return nil // the client closed stdin
	}
	return err
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// adapter is the go-sdk side of one Auth: the tools the core may list.
type adapter struct {
	auth *sdk.Auth
	s    *mcp.Server

	mu    sync.Mutex
	tools map[string]serverTool

	listens atomic.Int64 // subscriptions/listen streams open (MCP 2026-07-28)
}

type serverTool struct {
	tool    *mcp.Tool
	handler mcp.ToolHandler
}

// attach returns auth's adapter for s, creating it (with the auth tools) on
// first use; nil, with a set-up error recorded, for a second server.
func attach(auth *sdk.Auth, s *mcp.Server) *adapter {
	l := auth.Attach(func() sdk.ToolList {
		ad := &adapter{auth: auth, s: s, tools: map[string]serverTool{}}
		for _, t := range auth.AuthTools() {
			ad.tools[t.Name] = ad.authTool(t)
		}
		s.AddReceivingMiddleware(ad.countListens)
		return ad
	})
	ad, ok := l.(*adapter)
	if !ok || ad.s != s {
		auth.SetupError(fmt.Errorf("mcpauth: one Auth protects one *mcp.Server; create an Auth per server"))
		return nil
	}
	return ad
}

func (ad *adapter) add(t *mcp.Tool, h mcp.ToolHandler) {
	ad.mu.Lock()
	defer ad.mu.Unlock()
	ad.tools[t.Name] = serverTool{tool: t, handler: h}
}

func (ad *adapter) remove(name string) {
	ad.mu.Lock()
	defer ad.mu.Unlock()
	delete(ad.tools, name)
}

// ChangeTools implements sdk.ToolList. go-sdk debounces list changes (10
// ms) into one notifications/tools/list_changed, which it writes to every
// session below MCP 2026-07-28 and to 2026-07-28 sessions with an open
// subscriptions/listen stream.
func (ad *adapter) ChangeTools(show, hide []string) int {
	ad.mu.Lock()
	var add []serverTool
	for _, name := range show {
		if t, ok := ad.tools[name]; ok {
			add = append(add, t)
		}
	}
	ad.mu.Unlock()
	for _, t := range add {
		if err := addTool(ad.s, t); err != nil {
			ad.auth.SetupError(err)
		}
	}
	if len(hide) > 0 {
		ad.s.RemoveTools(hide...)
	}
	if len(add) == 0 && len(hide) == 0 {
		return 0
	}
	if ad.listens.Load() > 0 {
		return 1
	}
	for ss := range ad.s.Sessions() {
		if ip := ss.InitializeParams(); ip != nil && ip.ProtocolVersion < protocolMultiRoundTrip {
			return 1
		}
	}
	return 0
}

// methodListen is the MCP 2026-07-28 request that keeps a stream open for
// list_changed notifications (SEP-2575).
const methodListen = "subscriptions/listen"

// countListens counts the open subscriptions/listen streams: a 2026-07-28
// client is notified of list changes only through one.
func (ad *adapter) countListens(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != methodListen {
			return next(ctx, method, req)
		}
		ad.listens.Add(1)
		defer ad.listens.Add(-1)
		return next(ctx, method, req)
	}
}

// addTool adds t to s, turning go-sdk's panic on a tool it refuses (an
// input schema that is not an object, say) into an error.
func addTool(s *mcp.Server, t serverTool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("mcpauth: go-sdk refused the tool %q: %v", t.tool.Name, r)
		}
	}()
	s.AddTool(t.tool, t.handler)
	return nil
}

// handler wraps h: it runs once the core has the tokens, or the core's
// result answers the call instead.
func (ad *adapter) handler(h mcp.ToolHandler, needs []sdk.Requirement) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var res *mcp.CallToolResult
		var herr error
		if out := ad.auth.Call(ctx, request(req), needs, func(ctx context.Context) error {
			res, herr = h(ctx, req)
			return nil
		}); out != nil {
			return toolResult(out), nil
		}
		return res, herr
	}
}

func (ad *adapter) authTool(t sdk.AuthTool) serverTool {
	name := t.Name
	tool := &mcp.Tool{
		Name:        t.Name,
		Description: t.Description,
		InputSchema: t.InputSchema,
		Annotations: &mcp.ToolAnnotations{
			ReadOnlyHint:    t.ReadOnly,
			DestructiveHint: &t.Destructive,
			IdempotentHint:  t.Idempotent,
			OpenWorldHint:   &t.OpenWorld,
		},
	}
	return serverTool{tool: tool, handler: func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var args map[string]any
		if len(req.Params.Arguments) > 0 {
			if err := json.Unmarshal(req.Params.Arguments, &args); err != nil {
				return toolResult(&sdk.Result{Text: "mcpauth: " + name + ": the arguments are not a JSON object", IsError: true}), nil
			}
		}
		return toolResult(ad.auth.CallAuthTool(ctx, name, request(req), args)), nil
	}}
}

// request reads what the core needs of a call: the client's declared
// capabilities (per request for MCP 2026-07-28, from initialize otherwise),
// the progress token, and the answer to a login the core showed.
func request(req *mcp.CallToolRequest) *sdk.Request {
	r := &sdk.Request{ClientFunc: func() sdk.Client { return client(req) }}
	if req.Session != nil {
		r.Peer = peer{ss: req.Session}
	}
	if req.Params == nil {
		return r
	}
	r.ProgressToken = req.Params.GetProgressToken()
	r.RequestState = req.Params.RequestState
	if ans, ok := req.Params.InputResponses[sdk.InputKey]; ok {
		r.Answer = &sdk.Answer{}
		if er, ok := ans.(*mcp.ElicitResult); ok && er != nil {
			r.Answer.Action = er.Action
		}
	}
	return r
}

// client reads what the client declared. For a 2026-07-28 request that is
// a JSON decode of its _meta (~32 KB of garbage per call in go-sdk v1.8.0),
// so the core asks only when it has a login to show.
func client(req *mcp.CallToolRequest) sdk.Client {
	var cl sdk.Client
	if req.Session != nil {
		// As go-sdk's own multi-round-trip middleware decides: a session
		// without initialize (stateless 2026-07-28) or one that asked for
		// 2026-07-28 takes input_required results and no elicitation/create.
		ip := req.Session.InitializeParams()
		cl.Modern = ip == nil || ip.ProtocolVersion >= protocolMultiRoundTrip
	}
	if caps := req.ClientCapabilities(); caps != nil {
		cl.Elicitation = sdk.ElicitationSupportOf(caps.Elicitation != nil, caps.Elicitation != nil && caps.Elicitation.URL != nil)
		cl.ClientIDMetadataDocument = sdk.ClientIDMetadataDocumentOf(caps.Extensions, caps.Experimental)
	}
	return cl
}

// toolResult turns the core's result into go-sdk's. An input request goes
// out as an input_required result; for clients below 2026-07-28 go-sdk's
// multi-round-trip middleware sends it as elicitation/create and calls the
// handler again with the answer.
func toolResult(r *sdk.Result) *mcp.CallToolResult {
	if r.Input != nil {
		return &mcp.CallToolResult{
			InputRequests: mcp.InputRequestMap{sdk.InputKey: elicitParams(r.Input)},
			RequestState:  r.RequestState,
		}
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: r.Text}}, IsError: r.IsError}
}

func elicitParams(e *sdk.Elicitation) *mcp.ElicitParams {
	if e.Mode == sdk.ModeForm {
		return &mcp.ElicitParams{Mode: sdk.ModeForm, Message: e.Message, RequestedSchema: sdk.FormSchema()}
	}
	return &mcp.ElicitParams{Mode: sdk.ModeURL, Message: e.Message, URL: e.URL, ElicitationID: e.ElicitationID}
}

// peer reaches the client of one session.
type peer struct{ ss *mcp.ServerSession }

func (p peer) NotifyProgress(ctx context.Context, token any, progress, total float64, message string) error {
	return p.ss.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: progress, Total: total, Message: message})
}

func (p peer) NotifyElicitationComplete(ctx context.Context, id string) error {
	return p.ss.NotifyElicitationComplete(ctx, &mcp.ElicitationCompleteParams{ElicitationID: id})
}

func (p peer) Elicit(ctx context.Context, e *sdk.Elicitation) (string, error) {
	res, err := p.ss.Elicit(ctx, elicitParams(e))
	if err != nil {
		return "", err
	}
	return res.Action, nil
}
