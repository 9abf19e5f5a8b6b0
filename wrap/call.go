package wrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/mcpauth/mcpauth/sdk"
)

// maxRounds bounds the elicitations one tools/call may go through (a login,
// then perhaps a step-up), as mcp-go bounds its own loop.
const maxRounds = 10

// callTool answers tools/call: the gate's own tools it answers itself;
// every other call reaches the wrapped server only through Gate.Call, that
// is once a token exists, on a run started with it.
func (p *Proxy) callTool(ctx context.Context, m *message, modern bool) {
	var params struct {
		Name      string         `json:"name"`
		Arguments map[string]any `json:"arguments"`
		Meta      struct {
			ProgressToken any `json:"progressToken"`
		} `json:"_meta"`
	}
	if err := json.Unmarshal(m.Params, &params); err != nil || params.Name == "" {
		_ = p.host.error(m.ID, -32602, "mcpauth wrap: tools/call needs params with a name")
		return
	}
	p.mu.Lock()
	req := &sdk.Request{Client: p.client, ProgressToken: params.Meta.ProgressToken, Peer: hostPeer{p}}
	isAuthTool := p.listed[params.Name] && params.Name != ServerTools
	p.mu.Unlock()
	if modern {
		req.Client = modernClient(m)
		modernAnswer(req, m.Params)
	}

	if isAuthTool && slices.ContainsFunc(p.cfg.Gate.AuthTools(), func(t sdk.AuthTool) bool { return t.Name == params.Name }) {
		p.gated(ctx, m, req, func(req *sdk.Request) (*sdk.Result, bool) {
			return p.cfg.Gate.CallAuthTool(ctx, params.Name, req, params.Arguments), false
		})
		return
	}
	p.gated(ctx, m, req, func(req *sdk.Request) (*sdk.Result, bool) {
		var resp *message
		var runErr error
		ran := false
		res := p.cfg.Gate.Call(ctx, req, func(ctx context.Context, token string) error {
			c, err := p.ensure(ctx, token)
			if err != nil {
				runErr = err
				return err
			}
			ran = true
			resp, runErr = p.ask(ctx, c, m.Method, m.Params)
			p.release(c)
			return runErr
		})
		if ran || runErr != nil {
			// The call reached the server (or its start failed): its
			// answer, or why there is none, whatever the gate made of it.
			p.answer(ctx, m, resp, runErr)
			return nil, true
		}
		return res, false
	})
}

// gated calls call until it is answered: a Result without elicitation is
// written as the tool result; for a 2025-11-25 client an elicitation goes
// out as elicitation/create and call runs again with the answer; for a
// 2026-07-28 client it is the input_required result. done means call
// answered the host itself.
func (p *Proxy) gated(ctx context.Context, m *message, req *sdk.Request, call func(*sdk.Request) (res *sdk.Result, done bool)) {
	for range maxRounds {
		res, done := call(req)
		switch {
		case done:
			return
		case errors.Is(context.Cause(ctx), errHostCancelled):
			// The host cancelled the call while the core waited: no answer.
			return
		case res == nil:
			_ = p.host.error(m.ID, codeInternal, "mcpauth wrap: the login core gave no answer")
			return
		case res.Input == nil:
			_ = p.host.result(m.ID, toolResult(res.Text, res.IsError))
			return
		case req.Client.Modern:
			_ = p.host.result(m.ID, inputRequired(res))
			return
		}
		action, err := hostPeer{p}.Elicit(ctx, res.Input)
		if err != nil {
			if ctx.Err() != nil {
				p.answer(ctx, m, nil, context.Cause(ctx))
				return
			}
			_ = p.host.result(m.ID, toolResult("mcpauth wrap: the client did not show the login: "+err.Error(), true))
			return
		}
		next := *req
		next.Answer, next.RequestState = &sdk.Answer{Action: action}, res.RequestState
		req = &next
	}
	_ = p.host.result(m.ID, toolResult(fmt.Sprintf("mcpauth wrap: gave up after %d login requests in one call", maxRounds), true))
}

func toolResult(text string, isError bool) map[string]any {
	return map[string]any{
		"content": []map[string]any{{"type": "text", "text": text}},
		"isError": isError,
	}
}

// inputRequired is an MCP 2026-07-28 input_required tool result.
func inputRequired(res *sdk.Result) map[string]any {
	return map[string]any{
		"resultType": "input_required",
		"inputRequests": map[string]any{
			sdk.InputKey: map[string]any{"method": "elicitation/create", "params": elicitParams(res.Input)},
		},
		"requestState": res.RequestState,
	}
}

// elicitParams are elicitation/create's params: URL mode, or a form with
// nothing to fill in (the message carries the device code).
func elicitParams(e *sdk.Elicitation) map[string]any {
	if e.Mode == sdk.ModeURL {
		p := map[string]any{"mode": "url", "message": e.Message, "url": e.URL}
		if e.ElicitationID != "" {
			p["elicitationId"] = e.ElicitationID
		}
		return p
	}
	return map[string]any{
		"message":         e.Message,
		"requestedSchema": map[string]any{"type": "object", "properties": map[string]any{}},
	}
}

// hostPeer is the Peer through which the gate reaches the host.
type hostPeer struct{ p *Proxy }

func (h hostPeer) NotifyProgress(ctx context.Context, token any, progress, total float64, message string) error {
	params := map[string]any{"progressToken": token, "progress": progress}
	if total > 0 {
		params["total"] = total
	}
	if message != "" {
		params["message"] = message
	}
	return h.p.host.notify("notifications/progress", params)
}

func (h hostPeer) NotifyElicitationComplete(ctx context.Context, elicitationID string) error {
	return h.p.host.notify("notifications/elicitation/complete", map[string]any{"elicitationId": elicitationID})
}

// errNoElicitation: the client declared no elicitation mode that fits.
var errNoElicitation = errors.New("the client declared no elicitation of this mode")

// Elicit sends elicitation/create to the host and returns its action.
func (h hostPeer) Elicit(ctx context.Context, e *sdk.Elicitation) (string, error) {
	p := h.p
	p.mu.Lock()
	support := p.client.Elicitation
	p.mu.Unlock()
	if support == sdk.ElicitNone || (e.Mode == sdk.ModeURL && support != sdk.ElicitURL) {
		return "", errNoElicitation
	}
	resp, err := p.askHost(ctx, "elicitation/create", mustJSON(elicitParams(e)))
	if err != nil {
		return "", err
	}
	if len(resp.Error) > 0 {
		var re rpcError
		_ = json.Unmarshal(resp.Error, &re)
		return "", fmt.Errorf("elicitation/create: error %d: %s", re.Code, re.Message)
	}
	var r struct {
		Action string `json:"action"`
	}
	if err := json.Unmarshal(resp.Result, &r); err != nil || r.Action == "" {
		return "", errors.New("elicitation/create: the answer has no action")
	}
	return r.Action, nil
}

// askHost sends the host a request of the proxy's own and waits for the
// answer or ctx. A request ctx ends is cancelled at the host.
func (p *Proxy) askHost(ctx context.Context, method string, params json.RawMessage) (*message, error) {
	p.mu.Lock()
	p.next++
	n := p.next
	th := &toHost{resp: make(chan *message, 1)}
	p.toHost[n] = th
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.toHost, n)
		p.mu.Unlock()
	}()
	if err := p.host.write(&message{ID: proxyID(n), Method: method, Params: params}); err != nil {
		return nil, fmt.Errorf("wrap: write to the host: %w", err)
	}
	select {
	case m := <-th.resp:
		return m, nil
	case <-ctx.Done():
		_ = p.host.notify("notifications/cancelled", map[string]any{"requestId": n, "reason": "mcpauth wrap: the call ended"})
		return nil, context.Cause(ctx)
	}
}
