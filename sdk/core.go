package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
)

// This file is the boundary between mcpauth's transport-neutral core and an
// MCP SDK. An adapter (sdk/mcpgo for mcp-go, sdk/gosdk for the official
// go-sdk, wrap for the JSON-RPC proxy) turns each tools/call into a
// Request, calls Call, and answers with either its handler's result or the
// Result the core returns; it lists and unlists tools when the core asks
// (ToolList). Server authors use an adapter, not these types.

// ElicitationSupport is how a client can show a login to its user, as it
// declared (MCP 2025-11-25 capabilities.elicitation, or the 2026-07-28
// clientCapabilities in a request's _meta).
type ElicitationSupport int

const (
	// ElicitNone: no elicitation; the login is shown as a tool result with
	// the link, and the user calls the tool again.
	ElicitNone ElicitationSupport = iota
	// ElicitForm: form elicitation only (an empty elicitation object): a
	// form carrying the device code and the verification URI as text.
	ElicitForm
	// ElicitURL: URL-mode elicitation (elicitation.url declared).
	ElicitURL
)

func (e ElicitationSupport) String() string {
	switch e {
	case ElicitForm:
		return "form"
	case ElicitURL:
		return "url"
	}
	return "none"
}

// ElicitationSupportOf reads a client's elicitation capability: declared
// says whether capabilities.elicitation is present at all, url whether its
// url member is. Never send a mode the client did not declare.
func ElicitationSupportOf(declared, url bool) ElicitationSupport {
	switch {
	case !declared:
		return ElicitNone
	case url:
		return ElicitURL
	}
	return ElicitForm
}

// Client is what the core knows of the client behind one request.
type Client struct {
	Elicitation ElicitationSupport
	// Modern: the request uses MCP 2026-07-28 or later (capabilities in
	// _meta, input_required results, no server-initiated requests).
	Modern bool
	// ClientIDMetadataDocument is the CIMD URL the client declared (see
	// CapabilityClientIDMetadataDocument and ClientIDMetadataDocumentOf), or "".
	ClientIDMetadataDocument string
}

// Request is one tools/call as the core sees it.
type Request struct {
	Client Client
	// ClientFunc, if set, is called instead of reading Client, once and only
	// when the core needs to know (a login to show, a step-up): reading a
	// 2026-07-28 request's declared capabilities can cost a JSON decode that
	// a call with its token in memory never needs.
	ClientFunc func() Client
	// ProgressToken is params._meta.progressToken, nil if absent.
	ProgressToken any
	// Answer is the client's answer under inputResponses[InputKey] in a
	// retry (or, for 2025-11-25 clients, the answer to the elicitation the
	// adapter sent on the core's behalf); nil if none.
	Answer *Answer
	// RequestState is params.requestState of such a retry.
	RequestState string
	// Peer reaches this call's client; nil means it cannot be reached
	// (no progress, no in-call elicitation).
	Peer Peer
}

// Answer is a client's answer to an elicitation.
type Answer struct {
	// Action is "accept", "decline" or "cancel".
	Action string
}

// Elicitation actions.
const (
	ActionAccept  = "accept"
	ActionDecline = "decline"
	ActionCancel  = "cancel"
)

// Peer sends to the client of one call's session. Its methods are called
// from the goroutine of a call or of a login running in the background, so
// they must be safe for concurrent use.
type Peer interface {
	// NotifyProgress sends notifications/progress for token.
	NotifyProgress(ctx context.Context, token any, progress, total float64, message string) error
	// NotifyElicitationComplete sends notifications/elicitation/complete
	// (MCP 2025-11-25).
	NotifyElicitationComplete(ctx context.Context, elicitationID string) error
	// Elicit sends elicitation/create and returns the user's action. Only
	// 2025-11-25 sessions take it; the core asks only those.
	Elicit(ctx context.Context, e *Elicitation) (action string, err error)
}

// Elicitation is what the core asks a client to show.
type Elicitation struct {
	// Mode is "url" or "form". A form's requestedSchema is an empty object.
	Mode    string
	Message string
	URL     string // url mode
	// ElicitationID is set for 2025-11-25 URL elicitations, which
	// notifications/elicitation/complete names when the login succeeds.
	ElicitationID string
}

// Elicitation modes.
const (
	ModeURL  = "url"
	ModeForm = "form"
)

// FormSchema is the requestedSchema of a form elicitation: nothing to fill
// in, the user only accepts or declines.
func FormSchema() map[string]any {
	return map[string]any{"type": "object", "properties": map[string]any{}}
}

// Result is what the core answers a call with instead of running it.
type Result struct {
	Text    string
	IsError bool
	// Input, if set, makes the answer an input_required result (MCP
	// 2026-07-28 multi round trip): inputRequests {InputKey:
	// elicitation/create with Input}, and requestState RequestState. For a
	// 2025-11-25 client the adapter (or its SDK) sends the elicitation/create
	// itself and calls again with the Answer and RequestState.
	Input        *Elicitation
	RequestState string
}

// InputKey names mcpauth's entry in inputRequests and inputResponses.
const InputKey = "mcpauth_login"

// Call obtains the tokens needs names for the call req and then runs run,
// with a context from which Token and HTTPClient read them. It returns nil
// when run ran (the adapter answers with run's result), or the Result to
// answer with instead: the login to show, a "still waiting" or a failure.
// run may run more than once: an API asking for more scopes than a modern
// client can be asked for from inside the call replaces the first result by
// the login, and run runs again after it.
func (a *Auth) Call(ctx context.Context, req *Request, needs []Requirement, run func(context.Context) error) *Result {
	if req == nil {
		req = &Request{}
	}
	if !a.served.Load() {
		a.served.Store(true) // once: no write to a shared word on every call
	}
	cs := &callState{a: a, c: callerOf(req)}
	if req.Answer != nil {
		// A retry carrying the user's answer to a login we showed.
		if res := a.resume(ctx, cs, req.RequestState, req.Answer); res != nil {
			return res
		}
	}
	for _, n := range needs {
		if res := a.ensure(ctx, cs, n); res != nil {
			return res
		}
	}
	hctx := context.WithValue(ctx, callKey{}, cs)
	for {
		if err := run(hctx); err != nil {
			return &Result{Text: err.Error(), IsError: true}
		}
		su := cs.takePending()
		if su == nil {
			return nil
		}
		// The API asked for more scopes and this client cannot be asked
		// from inside the request: show the login instead of the
		// handler's result, and run the handler again after it.
		if r := a.authorize(ctx, cs, su.p, su.scopes, true, false); r != nil {
			return r
		}
		cs.markSteppedUp(su.p.cfg.Name)
	}
}

// ToolList is the adapter's side of the tool list: the core asks it to list
// and unlist tools (explicit mode, the auth tools, scope filtering).
type ToolList interface {
	// ChangeTools lists the tools named in show and unlists those in hide,
	// and says how many notifications/tools/list_changed the change will
	// write (the core waits for them before an auth tool's result).
	ChangeTools(show, hide []string) (listChanged int)
}

// Attach returns the tool list bound to a, binding the one newList makes
// on the first call (one MCP server per Auth), and lists the tools that
// should be listed now: the auth tools, and the protected tools registered
// so far as the mode says. An adapter keeps its state in its ToolList and
// finds it again here.
func (a *Auth) Attach(newList func() ToolList) ToolList {
	a.mu.Lock()
	l := a.list
	first := l == nil
	if first {
		l = newList()
		a.list = l
	}
	a.mu.Unlock()
	if first {
		a.syncTools()
	}
	return l
}

// Bind attaches l as the tool list (see Attach); a second, different list
// is a set-up error.
func (a *Auth) Bind(l ToolList) error {
	if got := a.Attach(func() ToolList { return l }); got != l {
		err := errors.New("mcpauth: one Auth protects one MCP server; create an Auth per server")
		a.setupError(err)
		return err
	}
	return nil
}

// Logger is the logger mcpauth logs to (Options.Logger, or stderr).
func (a *Auth) Logger() *slog.Logger { return a.logger }

// Protected registers a tool that needs needs. The adapter adds the tool's
// handler (calling Call) to its server but lists it only when the core asks
// (ToolList). A provider nobody configured is a set-up error (Err), with
// the list of configured providers.
func (a *Auth) Protected(name string, needs ...Requirement) error {
	for _, n := range needs {
		if a.providers[n.Provider] == nil {
			err := fmt.Errorf("mcpauth: tool %q: %w", name, a.unknownProvider(n.Provider))
			a.setupError(err)
			return err
		}
	}
	a.mu.Lock()
	a.tools = append(a.tools, protectedTool{name: name, needs: slices.Clone(needs)})
	a.mu.Unlock()
	a.syncTools()
	return nil
}

// SetupError records a mistake an adapter found in how the server uses
// mcpauth (say, a tool it cannot add); Err reports it, and serving refuses
// to start.
func (a *Auth) SetupError(err error) { a.setupError(err) }
