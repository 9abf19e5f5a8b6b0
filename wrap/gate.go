package wrap

import "context"

// Gate is what the proxy asks before a tools/call reaches the wrapped
// server: mcpauth's transport-neutral login core (package sdk). The proxy
// is an adapter of that core for raw JSON-RPC, as sdk/mcpgo and sdk/gosdk
// are for their libraries; the types below mirror the core's.
//
// A Gate is called from many goroutines at once.
type Gate interface {
	// Current returns the token the wrapped server should run with now
	// (refreshed if it was about to expire), without starting a login;
	// "" when there is none. The proxy calls it before every request it
	// forwards, so a refreshed or stepped-up token restarts the server
	// between calls.
	Current(ctx context.Context) (string, error)
	// Call runs run with the token once it exists. Otherwise it returns
	// the Result to answer the call with instead (a login to show, a
	// refusal); run has not been called then.
	Call(ctx context.Context, req *Request, run func(ctx context.Context, token string) error) *Result
	// AuthTools lists the tools the gate answers itself (explicit mode:
	// auth_login, auth_status); nil in lazy mode.
	AuthTools() []AuthTool
	// CallAuthTool answers a call of one of AuthTools.
	CallAuthTool(ctx context.Context, name string, req *Request, args map[string]any) *Result
	// Bind tells the gate how to show and hide the wrapped server's tools
	// (explicit mode): ShowTools once a login exists, HideTools after a
	// logout.
	Bind(l ToolList) error
}

// ToolList is how a Gate lists and unlists the wrapped server's tools.
type ToolList interface {
	ShowTools()
	HideTools()
}

// ElicitationSupport is what a client declared it can show.
type ElicitationSupport int

const (
	ElicitNone ElicitationSupport = iota
	ElicitForm
	ElicitURL
)

// Client is the MCP client (host) as the host's initialize declared it.
type Client struct {
	Elicitation ElicitationSupport
	// Modern is true for an MCP 2026-07-28 request.
	Modern bool
}

// Request is one tools/call as the gate sees it.
type Request struct {
	Client        Client
	ProgressToken any
	Answer        *Answer
	RequestState  string
	Peer          Peer
}

// Answer is the client's answer to an elicitation.
type Answer struct{ Action string }

// Peer is how the gate reaches the client of one call.
type Peer interface {
	NotifyProgress(ctx context.Context, token any, progress, total float64, message string) error
	NotifyElicitationComplete(ctx context.Context, elicitationID string) error
	Elicit(ctx context.Context, e *Elicitation) (action string, err error)
}

// Elicitation is an elicitation/create request's parameters.
type Elicitation struct{ Mode, Message, URL, ElicitationID string }

// Result answers a call the gate did not let through.
type Result struct {
	Text         string
	IsError      bool
	Input        *Elicitation
	RequestState string
}

// AuthTool describes one tool the gate answers itself.
type AuthTool struct {
	Name, Description                            string
	InputSchema                                  map[string]any
	ReadOnly, Destructive, Idempotent, OpenWorld bool
}
