package wrap

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/mcpauth/mcpauth/sdk"
)

// MCP 2026-07-28 has no initialize handshake: each request carries the
// protocol version and the client's capabilities in _meta; server/discover
// asks for the server's; notifications are opt-in through a long-lived
// subscriptions/listen request; and the server sends the client no
// requests. The wrapped servers speak the handshake era, so for such a
// host the proxy does the handshake with the server itself.

// Keys of a 2026-07-28 request's or result's _meta.
const (
	metaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	metaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	metaClientInfo         = "io.modelcontextprotocol/clientInfo"
	metaServerInfo         = "io.modelcontextprotocol/serverInfo"
	metaSubscriptionID     = "io.modelcontextprotocol/subscriptionId"
)

// modernVersion is the protocol version without a handshake.
const modernVersion = "2026-07-28"

// requestMeta is what the proxy reads of a request's _meta.
type requestMeta struct {
	ProtocolVersion    string          `json:"io.modelcontextprotocol/protocolVersion"`
	ClientCapabilities json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
	ClientInfo         json.RawMessage `json:"io.modelcontextprotocol/clientInfo"`
}

func metaOf(params json.RawMessage) requestMeta {
	var p struct {
		Meta requestMeta `json:"_meta"`
	}
	_ = json.Unmarshal(params, &p)
	return p.Meta
}

// modern reports whether m is a 2026-07-28 request, and if it is the
// first, records what the handshake with the wrapped server replays: the
// host's clientInfo, and no client capabilities, since the server could
// not use them (no server-initiated requests reach such a host).
func (p *Proxy) modern(m *message) bool {
	meta := metaOf(m.Params)
	if meta.ProtocolVersion == "" || slices.Contains(protocolVersions, meta.ProtocolVersion) {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.modernReqs[idKey(m.ID)] = m.Method
	if !p.modernHost {
		p.modernHost = true
		info := meta.ClientInfo
		if len(info) == 0 {
			info = mustJSON(map[string]any{"name": "mcp-host", "version": "0"})
		}
		p.initParams = mustJSON(map[string]any{"protocolVersion": protocolVersions[0], "capabilities": map[string]any{}, "clientInfo": info})
		// The proxy says initialized to every run itself.
		p.hostInitialized = true
	}
	return true
}

// cacheable are the methods whose 2026-07-28 results carry ttlMs and
// cacheScope (SEP-2549).
var cacheable = map[string]bool{"tools/list": true, "prompts/list": true, "resources/list": true, "resources/templates/list": true, "resources/read": true}

// withResultType completes m, an answer to a 2026-07-28 request, with what
// that version requires and the wrapped servers (and the proxy's own
// answers) predate: resultType "complete" unless it says otherwise, and for
// a cacheable result ttlMs 0 and cacheScope "private" (the tool list
// changes with a login: nothing may be cached).
func (p *Proxy) withResultType(m *message) {
	if !m.isResponse() || len(m.Result) == 0 {
		return
	}
	p.mu.Lock()
	method, modern := p.modernReqs[idKey(m.ID)]
	p.mu.Unlock()
	if !modern {
		return
	}
	var r map[string]json.RawMessage
	if json.Unmarshal(m.Result, &r) != nil {
		return
	}
	if r["resultType"] == nil {
		r["resultType"] = json.RawMessage(`"complete"`)
	}
	if cacheable[method] {
		if r["ttlMs"] == nil {
			r["ttlMs"] = json.RawMessage(`0`)
		}
		if r["cacheScope"] == nil {
			r["cacheScope"] = json.RawMessage(`"private"`)
		}
	}
	m.Result = mustJSON(r)
}

// modernClient reads the client of one 2026-07-28 request.
func modernClient(m *message) sdk.Client {
	var caps struct {
		Elicitation  *map[string]json.RawMessage `json:"elicitation"`
		Extensions   map[string]any              `json:"extensions"`
		Experimental map[string]any              `json:"experimental"`
	}
	_ = json.Unmarshal(metaOf(m.Params).ClientCapabilities, &caps)
	url := false
	if caps.Elicitation != nil {
		_, url = (*caps.Elicitation)["url"]
	}
	return sdk.Client{
		Modern:                   true,
		Elicitation:              sdk.ElicitationSupportOf(caps.Elicitation != nil, url),
		ClientIDMetadataDocument: sdk.ClientIDMetadataDocumentOf(caps.Extensions, caps.Experimental),
	}
}

// modernAnswer reads a 2026-07-28 retry: the answer under
// inputResponses[sdk.InputKey] and the requestState.
func modernAnswer(req *sdk.Request, params json.RawMessage) {
	var p struct {
		InputResponses map[string]struct {
			Action string `json:"action"`
		} `json:"inputResponses"`
		RequestState string `json:"requestState"`
	}
	_ = json.Unmarshal(params, &p)
	if a, ok := p.InputResponses[sdk.InputKey]; ok {
		req.Answer = &sdk.Answer{Action: a.Action}
	}
	req.RequestState = p.RequestState
}

// discover answers server/discover with the wrapped server's capabilities,
// instructions and serverInfo, from a run started as initialize would
// start it; in explicit mode before a login, with the proxy's own.
func (p *Proxy) discover(ctx context.Context, m *message) {
	token := p.current(ctx)
	caps := json.RawMessage(`{"tools":{"listChanged":true}}`)
	info := mustJSON(map[string]any{"name": p.cfg.ServerName, "version": p.cfg.ServerVersion})
	var instructions string
	if token != "" || p.serverToolsListed() {
		c, err := p.ensure(ctx, token)
		if err != nil {
			_ = p.host.error(m.ID, codeInternal, "mcpauth wrap: "+err.Error())
			return
		}
		p.release(c)
		var r struct {
			Capabilities json.RawMessage `json:"capabilities"`
			ServerInfo   json.RawMessage `json:"serverInfo"`
			Instructions string          `json:"instructions"`
		}
		result := c.initResult
		if len(p.cfg.Gate.AuthTools()) > 0 {
			result = withListChanged(result)
		}
		if json.Unmarshal(result, &r) == nil && len(r.Capabilities) > 0 {
			caps, instructions = r.Capabilities, r.Instructions
			if len(r.ServerInfo) > 0 {
				info = r.ServerInfo
			}
		}
	}
	res := map[string]any{
		"supportedVersions": append([]string{modernVersion}, protocolVersions...),
		"capabilities":      caps,
		"_meta":             map[string]any{metaServerInfo: info},
	}
	if instructions != "" {
		res["instructions"] = instructions
	}
	_ = p.host.result(m.ID, res)
}

// listen serves subscriptions/listen: it acknowledges the notifications it
// can deliver (the tool list's changes), then holds the request open until
// the host cancels it or goes away, and answers with the subscription's ID.
func (p *Proxy) listen(ctx context.Context, m *message) {
	var params struct {
		Notifications map[string]json.RawMessage `json:"notifications"`
	}
	_ = json.Unmarshal(m.Params, &params)
	allowed := map[string]any{}
	if string(params.Notifications["toolsListChanged"]) == "true" {
		allowed["toolsListChanged"] = true
		p.mu.Lock()
		p.toolsListener = idKey(m.ID)
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			if p.toolsListener == idKey(m.ID) {
				p.toolsListener = ""
			}
			p.mu.Unlock()
		}()
	}
	_ = p.host.notify("notifications/subscriptions/acknowledged", map[string]any{
		"_meta":         map[string]any{metaSubscriptionID: m.ID},
		"notifications": allowed,
	})
	if len(allowed) > 0 {
		<-ctx.Done()
	}
	_ = p.host.result(m.ID, map[string]any{"_meta": map[string]any{metaSubscriptionID: m.ID}})
}

// listChangedWanted reports whether the host takes tools/list_changed now:
// a handshake-era host once initialized, a 2026-07-28 host while it listens.
func (p *Proxy) listChangedWanted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.modernHost {
		return p.toolsListener != ""
	}
	return p.hostInitialized
}
