package wrap

import (
	"context"
	"encoding/json"

	"github.com/mcpauth/mcpauth/sdk"
)

// initialize starts the wrapped server (with the token if there is one,
// else, in lazy mode, the Placeholder) and answers with its own initialize
// result, so the host sees the server's capabilities, name and version. In
// explicit mode without a login the proxy answers itself.
func (p *Proxy) initialize(ctx context.Context, m *message) {
	var params struct {
		ProtocolVersion string `json:"protocolVersion"`
		Capabilities    struct {
			Elicitation  *map[string]json.RawMessage `json:"elicitation"`
			Extensions   map[string]any              `json:"extensions"`
			Experimental map[string]any              `json:"experimental"`
		} `json:"capabilities"`
	}
	_ = json.Unmarshal(m.Params, &params)
	e := params.Capabilities.Elicitation
	url := false
	if e != nil {
		_, url = (*e)["url"]
	}
	client := sdk.Client{
		Elicitation:              sdk.ElicitationSupportOf(e != nil, url),
		ClientIDMetadataDocument: sdk.ClientIDMetadataDocumentOf(params.Capabilities.Extensions, params.Capabilities.Experimental),
	}
	p.mu.Lock()
	p.initParams, p.client = m.Params, client
	shown := p.listed[ServerTools]
	p.mu.Unlock()

	token := p.current(ctx)
	if token == "" && !shown {
		_ = p.host.result(m.ID, map[string]any{
			"protocolVersion": negotiate(params.ProtocolVersion),
			"capabilities":    map[string]any{"tools": map[string]any{"listChanged": true}},
			"serverInfo":      map[string]any{"name": p.cfg.ServerName, "version": p.cfg.ServerVersion},
		})
		return
	}
	c, err := p.ensure(ctx, token)
	if err != nil {
		_ = p.host.error(m.ID, codeInternal, "mcpauth wrap: "+err.Error())
		return
	}
	p.release(c)
	result := c.initResult
	if len(p.cfg.Gate.AuthTools()) > 0 {
		result = withListChanged(result)
	}
	_ = p.host.write(&message{ID: m.ID, Result: result})
}

// protocolVersions are the MCP versions with an initialize handshake.
var protocolVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

// negotiate answers the host's protocol version when the proxy knows it,
// else the latest (MCP lifecycle, version negotiation).
func negotiate(v string) string {
	for _, known := range protocolVersions {
		if v == known {
			return v
		}
	}
	return protocolVersions[0]
}

// withListChanged sets capabilities.tools.listChanged in an initialize
// result: the gate changes the tool list whatever the server does.
func withListChanged(result json.RawMessage) json.RawMessage {
	var r map[string]any
	if json.Unmarshal(result, &r) != nil {
		return result
	}
	caps, _ := r["capabilities"].(map[string]any)
	if caps == nil {
		caps = map[string]any{}
		r["capabilities"] = caps
	}
	tools, _ := caps["tools"].(map[string]any)
	if tools == nil {
		tools = map[string]any{}
		caps["tools"] = tools
	}
	tools["listChanged"] = true
	return mustJSON(r)
}
