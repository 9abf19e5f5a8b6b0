// Package mcpgo is mcpauth's adapter for servers built on mcp-go
// (github.com/mark3labs/mcp-go): Protect adds a tool whose handler runs
// once the tokens it needs are there, ServeStdio serves the server on the
// process's claimed stdio. What happens in between — logins, how they are
// shown, step-up, the auth tools — is package sdk's transport-neutral core.
//
//	auth, err := sdk.New(ctx, sdk.Options{Providers: …})
//	s := server.NewMCPServer("my-server", "1.0.0", server.WithToolCapabilities(true))
//	mcpgo.Protect(auth, s, mcp.NewTool("list_repos"), handler, sdk.Need("github", "repo"))
//	err = mcpgo.ServeStdio(ctx, auth, s)
package mcpgo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpauth/mcpauth/sdk"
)

// defaultWorkers is the number of tool calls ServeStdio runs at once
// (mcp-go's default is 5). Calls waiting for a login hold a worker; the
// retry that carries the user's answer must not queue behind them.
const defaultWorkers = 32

// defaultQueue is how many tool calls may wait for a worker (mcp-go's
// default is 100). When the queue is full mcp-go runs the next call on its
// read loop: a call waiting for a login there stops the loop from reading
// the client's answer to that login, and the calls stall until their wait
// bound (scripts/bench saw it with 1,000 concurrent calls before a login).
const defaultQueue = 10000

// Protect adds tool to s with a handler that runs only once the tokens in
// needs are there: in lazy mode a call without them starts (or joins) the
// login and shows it to the user; in explicit mode the tool is listed once
// every provider it needs is logged in. The handler reads the tokens with
// sdk.Token and sdk.HTTPClient. A tool that needs a provider nobody
// configured is not added; ServeStdio (and auth.Err) report the mistake
// before serving, with the list of configured providers. One Auth protects
// one server.
func Protect(auth *sdk.Auth, s *server.MCPServer, tool mcp.Tool, handler server.ToolHandlerFunc, needs ...sdk.Requirement) {
	ad := attach(auth, s)
	if ad == nil {
		return
	}
	ad.add(server.ServerTool{Tool: tool, Handler: ad.handler(handler, needs)})
	if err := auth.Protected(tool.Name, needs...); err != nil {
		ad.remove(tool.Name)
	}
}

// ServeStdio serves s over stdio until ctx is done or the client closes
// stdin. It refuses to start while a set-up error is recorded (auth.Err).
// It first claims fds 0 and 1 for the MCP transport (sdk.Auth.Stdio), so no
// library print or child process can corrupt the JSON-RPC stream. opts are
// passed to mcp-go's stdio server after mcpauth's own (a larger worker
// pool and queue). Logins running in the background stop when it returns.
func ServeStdio(ctx context.Context, auth *sdk.Auth, s *server.MCPServer, opts ...server.StdioOption) error {
	attach(auth, s)
	defer auth.Close()
	in, out, err := auth.Stdio()
	if err != nil {
		return err
	}
	ss := server.NewStdioServer(s)
	ss.SetErrorLogger(slog.NewLogLogger(auth.Logger().Handler(), slog.LevelError))
	for _, o := range append([]server.StdioOption{server.WithWorkerPoolSize(defaultWorkers), server.WithQueueSize(defaultQueue)}, opts...) {
		o(ss)
	}
	return ss.Listen(ctx, in, out)
}

// adapter is the mcp-go side of one Auth: the tools the core may list.
type adapter struct {
	auth *sdk.Auth
	s    *server.MCPServer

	mu    sync.Mutex
	tools map[string]server.ServerTool
}

// attach returns auth's adapter for s, creating it (with the auth tools) on
// first use; nil, with a set-up error recorded, for a second server.
func attach(auth *sdk.Auth, s *server.MCPServer) *adapter {
	l := auth.Attach(func() sdk.ToolList {
		ad := &adapter{auth: auth, s: s, tools: map[string]server.ServerTool{}}
		for _, t := range auth.AuthTools() {
			ad.tools[t.Name] = ad.authTool(t)
		}
		return ad
	})
	ad, ok := l.(*adapter)
	if !ok || ad.s != s {
		auth.SetupError(fmt.Errorf("mcpauth: one Auth protects one *server.MCPServer; create an Auth per server"))
		return nil
	}
	return ad
}

func (ad *adapter) add(t server.ServerTool) {
	ad.mu.Lock()
	defer ad.mu.Unlock()
	ad.tools[t.Tool.Name] = t
}

func (ad *adapter) remove(name string) {
	ad.mu.Lock()
	defer ad.mu.Unlock()
	delete(ad.tools, name)
}

// ChangeTools implements sdk.ToolList: mcp-go writes one
// notifications/tools/list_changed per AddTools and per DeleteTools (to
// initialized sessions, on a server with tool capabilities).
func (ad *adapter) ChangeTools(show, hide []string) int {
	ad.mu.Lock()
	var add []server.ServerTool
	for _, name := range show {
		if t, ok := ad.tools[name]; ok {
			add = append(add, t)
		}
	}
	ad.mu.Unlock()
	n := 0
	if len(add) > 0 {
		ad.s.AddTools(add...)
		n++
	}
	if len(hide) > 0 {
		ad.s.DeleteTools(hide...)
		n++
	}
	return n
}

// handler wraps h: it runs once the core has the tokens, or the core's
// result answers the call instead.
func (ad *adapter) handler(h server.ToolHandlerFunc, needs []sdk.Requirement) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var res *mcp.CallToolResult
		var herr error
		if out := ad.auth.Call(ctx, request(ctx, req), needs, func(ctx context.Context) error {
			res, herr = h(ctx, req)
			return nil
		}); out != nil {
			return toolResult(out), nil
		}
		return res, herr
	}
}

func (ad *adapter) authTool(t sdk.AuthTool) server.ServerTool {
	schema, _ := json.Marshal(t.InputSchema) // maps of strings and slices: cannot fail
	tool := mcp.Tool{
		Name:           t.Name,
		Description:    t.Description,
		RawInputSchema: schema,
		// mcp-go's defaults call every tool destructive and open-world:
		// each auth tool says what it is.
		Annotations: mcp.ToolAnnotation{
			ReadOnlyHint:    mcp.ToBoolPtr(t.ReadOnly),
			DestructiveHint: mcp.ToBoolPtr(t.Destructive),
			IdempotentHint:  mcp.ToBoolPtr(t.Idempotent),
			OpenWorldHint:   mcp.ToBoolPtr(t.OpenWorld),
		},
	}
	name := t.Name
	return server.ServerTool{Tool: tool, Handler: func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return toolResult(ad.auth.CallAuthTool(ctx, name, request(ctx, req), req.GetArguments())), nil
	}}
}

// request reads what the core needs of a call: the client's declared
// capabilities (from the request's _meta for MCP 2026-07-28, from the
// initialize handshake otherwise), the progress token, and the answer to a
// login the core showed.
func request(ctx context.Context, req mcp.CallToolRequest) *sdk.Request {
	srv, session := server.ServerFromContext(ctx), server.ClientSessionFromContext(ctx)
	r := &sdk.Request{RequestState: req.Params.RequestState}
	var caps *mcp.ClientCapabilities
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		r.Client.Modern = true
		caps = info.ClientCapabilities
	} else if s, ok := session.(server.SessionWithClientInfo); ok {
		c := s.GetClientCapabilities()
		caps = &c
	}
	if caps != nil {
		r.Client.Elicitation = sdk.ElicitationSupportOf(caps.Elicitation != nil, caps.Elicitation != nil && caps.Elicitation.URL != nil)
		r.Client.ClientIDMetadataDocument = sdk.ClientIDMetadataDocumentOf(caps.Extensions, caps.Experimental)
	}
	if req.Params.Meta != nil && req.Params.Meta.ProgressToken != nil {
		r.ProgressToken = req.Params.Meta.ProgressToken
	}
	if _, ok := req.Params.InputResponses[sdk.InputKey]; ok {
		r.Answer = &sdk.Answer{}
		if ans := server.ElicitationResponse(req.Params.InputResponses, sdk.InputKey); ans != nil {
			r.Answer.Action = string(ans.Action)
		}
	}
	if srv != nil && session != nil {
		r.Peer = peer{srv: srv, session: session}
	}
	return r
}

// toolResult turns the core's result into mcp-go's. An input request goes
// out as an input_required result; for 2025-11-25 clients mcp-go sends it
// as elicitation/create and calls the handler again with the answer.
func toolResult(r *sdk.Result) *mcp.CallToolResult {
	switch {
	case r.Input != nil:
		return server.NewInputRequestBuilder(r.RequestState).Elicit(sdk.InputKey, elicitParams(r.Input)).ToolResult()
	case r.IsError:
		return mcp.NewToolResultError(r.Text)
	}
	return mcp.NewToolResultText(r.Text)
}

func elicitParams(e *sdk.Elicitation) mcp.ElicitationParams {
	if e.Mode == sdk.ModeForm {
		// No mode member: a 2025-06-18 client knows forms only.
		return mcp.ElicitationParams{Message: e.Message, RequestedSchema: sdk.FormSchema()}
	}
	return mcp.ElicitationParams{Mode: mcp.ElicitationModeURL, Message: e.Message, URL: e.URL, ElicitationID: e.ElicitationID}
}

// peer reaches the client of one session. mcp-go's send methods read the
// session from the context: a context from tool code or a background login
// may have lost it, so every call puts it back.
type peer struct {
	srv     *server.MCPServer
	session server.ClientSession
}

func (p peer) ctx(ctx context.Context) context.Context {
	if server.ClientSessionFromContext(ctx) == nil {
		ctx = p.srv.WithContext(ctx, p.session)
	}
	return ctx
}

func (p peer) NotifyProgress(ctx context.Context, token any, progress, total float64, message string) error {
	params := map[string]any{"progressToken": token, "progress": progress, "message": message}
	if total > 0 {
		params["total"] = total
	}
	return p.srv.SendNotificationToClient(p.ctx(ctx), string(mcp.MethodNotificationProgress), params)
}

func (p peer) NotifyElicitationComplete(ctx context.Context, id string) error {
	return p.srv.SendElicitationComplete(p.ctx(ctx), p.session, id)
}

func (p peer) Elicit(ctx context.Context, e *sdk.Elicitation) (string, error) {
	res, err := p.srv.RequestElicitation(p.ctx(ctx), mcp.ElicitationRequest{
		Request: mcp.Request{Method: string(mcp.MethodElicitationCreate)},
		Params:  elicitParams(e),
	})
	if err != nil {
		return "", err
	}
	return string(res.Action), nil
}
