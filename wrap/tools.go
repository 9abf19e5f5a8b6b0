package wrap

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/mcpauth/mcpauth/sdk"
)

// stopChild stops the current run, after draining it (a logout).
func (p *Proxy) stopChild() {
	p.life.Lock()
	defer p.life.Unlock()
	p.mu.Lock()
	c := p.child
	p.mu.Unlock()
	if c != nil && c.alive() {
		p.drain(c, p.cfg.DrainTimeout)
		p.stop(c)
	}
}

// toolList is the sdk.ToolList the gate drives.
type toolList struct{ p *Proxy }

var (
	_ sdk.ToolList = (*toolList)(nil)
	_ sdk.Peer     = hostPeer{}
)

// ChangeTools lists and unlists tools: ServerTools stands for all of the
// wrapped server's. Once the host has initialized it writes one
// notifications/tools/list_changed for the change. Unlisting the server's
// tools (a logout) stops it; listing them with a token known starts it in
// the background, and the host's next tools/list waits for it.
func (l *toolList) ChangeTools(show, hide []string) int {
	p := l.p
	p.mu.Lock()
	for _, n := range show {
		p.listed[n] = true
	}
	for _, n := range hide {
		delete(p.listed, n)
	}
	p.mu.Unlock()
	notify := p.host != nil && p.listChangedWanted()
	switch {
	case slices.Contains(hide, ServerTools):
		go p.stopChild()
	case slices.Contains(show, ServerTools):
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), p.cfg.StartTimeout)
			defer cancel()
			if tok := p.current(ctx); tok != "" {
				if c, err := p.ensure(ctx, tok); err == nil {
					p.release(c)
				} else {
					p.log.Warn("wrap: starting the wrapped server after the login", "err", err)
				}
			}
		}()
	}
	if !notify || len(show)+len(hide) == 0 {
		return 0
	}
	_ = p.host.notify("notifications/tools/list_changed", struct{}{})
	return 1
}

func (p *Proxy) serverToolsListed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listed[ServerTools]
}

// listTools answers tools/list: the auth tools the gate listed (on the
// first page), and the wrapped server's tools if the gate listed them,
// from a run with the token or, without one, with the Placeholder.
func (p *Proxy) listTools(ctx context.Context, m *message) {
	p.mu.Lock()
	var auth []json.RawMessage
	for _, t := range p.cfg.Gate.AuthTools() {
		if p.listed[t.Name] {
			auth = append(auth, mustJSON(toolJSON(t)))
		}
	}
	server := p.listed[ServerTools]
	p.mu.Unlock()
	if !server {
		_ = p.host.result(m.ID, map[string]any{"tools": append([]json.RawMessage{}, auth...)})
		return
	}
	c, err := p.ensure(ctx, p.current(ctx))
	if err != nil {
		_ = p.host.error(m.ID, codeInternal, "mcpauth wrap: "+err.Error())
		return
	}
	resp, err := p.ask(ctx, c, m.Method, m.Params)
	p.release(c)
	if err == nil && len(auth) > 0 && len(resp.Result) > 0 && !hasCursor(m.Params) {
		resp = &message{Result: appendTools(resp.Result, auth)}
	}
	p.answer(ctx, m, resp, err)
}

func hasCursor(params json.RawMessage) bool {
	var v struct {
		Cursor *string `json:"cursor"`
	}
	return json.Unmarshal(params, &v) == nil && v.Cursor != nil
}

// appendTools adds tools to a tools/list result, keeping its other members.
func appendTools(result json.RawMessage, tools []json.RawMessage) json.RawMessage {
	var r map[string]json.RawMessage
	if json.Unmarshal(result, &r) != nil {
		return result
	}
	var list []json.RawMessage
	_ = json.Unmarshal(r["tools"], &list)
	r["tools"] = mustJSON(append(list, tools...))
	return mustJSON(r)
}

// toolJSON is an AuthTool as MCP's Tool.
func toolJSON(t sdk.AuthTool) map[string]any {
	schema := t.InputSchema
	if schema == nil {
		schema = map[string]any{"type": "object"}
	}
	return map[string]any{
		"name":        t.Name,
		"description": t.Description,
		"inputSchema": schema,
		"annotations": map[string]any{
			"readOnlyHint":    t.ReadOnly,
			"destructiveHint": t.Destructive,
			"idempotentHint":  t.Idempotent,
			"openWorldHint":   t.OpenWorld,
		},
	}
}
