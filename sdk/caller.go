package sdk

import "sync"

// caller is what mcpauth knows of the client behind one tool call. What the
// client declared is read only when a login must be shown (client): for
// MCP 2026-07-28 it takes a JSON decode of the request's _meta, which a call
// with its token in memory never needs.
type caller struct {
	progressToken any
	peer          Peer // nil: the client cannot be reached outside the result
	declared      func() Client
}

func callerOf(req *Request) caller {
	c := caller{progressToken: req.ProgressToken, peer: req.Peer}
	if req.ClientFunc != nil {
		c.declared = sync.OnceValue(req.ClientFunc)
	} else {
		cl := req.Client
		c.declared = func() Client { return cl }
	}
	return c
}

// client is what the client declared (the zero Client for a zero caller).
func (c caller) client() Client {
	if c.declared == nil {
		return Client{}
	}
	return c.declared()
}

// kind is how the client can show a login.
func (c caller) kind() ElicitationSupport { return c.client().Elicitation }

// modern: the request uses MCP 2026-07-28 or later (capabilities in _meta,
// multi round-trip results, no server-initiated requests).
func (c caller) modern() bool { return c.client().Modern }
