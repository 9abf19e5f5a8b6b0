package sdk

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// clientKind is how a client can show a login to its user.
type clientKind int

const (
	kindNone clientKind = iota // no elicitation: a tool result with the link
	kindForm                   // form elicitation only: the device code in a form
	kindURL                    // URL-mode elicitation
)

func (k clientKind) String() string {
	switch k {
	case kindForm:
		return "form"
	case kindURL:
		return "url"
	}
	return "none"
}

// caller is what mcpauth knows of the client behind one tool call.
type caller struct {
	kind clientKind
	// modern: the request uses MCP 2026-07-28 or later (capabilities in
	// _meta, multi round-trip results, no server-initiated requests).
	modern        bool
	progressToken mcp.ProgressToken
	caps          *mcp.ClientCapabilities
	srv           *server.MCPServer
	session       server.ClientSession
}

// callerFrom reads the client's declared capabilities: from the request's
// _meta for MCP 2026-07-28, from the initialize handshake otherwise.
func callerFrom(ctx context.Context, req mcp.CallToolRequest) caller {
	c := caller{srv: server.ServerFromContext(ctx), session: server.ClientSessionFromContext(ctx)}
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		c.modern = true
		c.caps = info.ClientCapabilities
	} else if s, ok := c.session.(server.SessionWithClientInfo); ok {
		caps := s.GetClientCapabilities()
		c.caps = &caps
	}
	if c.caps != nil && c.caps.Elicitation != nil {
		// MCP 2025-11-25: an empty elicitation object means form only; URL
		// mode only when declared. Never send a mode the client did not declare.
		if c.caps.Elicitation.URL != nil {
			c.kind = kindURL
		} else {
			c.kind = kindForm
		}
	}
	if req.Params.Meta != nil {
		c.progressToken = req.Params.Meta.ProgressToken
	}
	return c
}

// withSession returns ctx carrying the caller's server and session, which
// mcp-go's notification and elicitation calls read: an API request made by
// tool code may carry a context that lost them.
func (c caller) withSession(ctx context.Context) context.Context {
	if c.srv != nil && c.session != nil && server.ClientSessionFromContext(ctx) == nil {
		ctx = c.srv.WithContext(ctx, c.session)
	}
	return ctx
}
