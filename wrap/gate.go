package wrap

import (
	"context"
	"errors"

	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk"
)

// Gate is what the proxy asks before a request reaches the wrapped server:
// mcpauth's transport-neutral login core. NewGate makes one from an
// *sdk.Auth; tests may supply their own. A Gate is called from many
// goroutines at once.
type Gate interface {
	// Current returns the token the wrapped server should run with for a
	// request that is not a tools/call, without starting a login; "" when
	// there is none.
	Current(ctx context.Context) (string, error)
	// Call runs run with the token once it exists, and returns nil.
	// Otherwise it returns the Result to answer the call with instead (a
	// login to show, a refusal); run has not run then. As sdk.Auth.Call.
	Call(ctx context.Context, req *sdk.Request, run func(ctx context.Context, token string) error) *sdk.Result
	// AuthTools describes the tools the gate answers itself (auth_login,
	// auth_status, auth_logout); which are listed is the gate's decision.
	AuthTools() []sdk.AuthTool
	// CallAuthTool answers a call of one of AuthTools.
	CallAuthTool(ctx context.Context, name string, req *sdk.Request, args map[string]any) *sdk.Result
	// Bind gives the gate the proxy's tool list. The gate lists
	// ServerTools for the wrapped server's tools, and the auth tools by
	// their names.
	Bind(l sdk.ToolList) error
}

// ServerTools is the name under which the core lists and unlists the
// wrapped server's tools, all together: they need one login, and the proxy
// does not know them before the server runs. It reads as the end of
// auth_login's "Tools available now: …".
const ServerTools = "the tools of the wrapped server"

// authGate is the Gate of an *sdk.Auth for one provider.
type authGate struct {
	auth  *sdk.Auth
	needs []sdk.Requirement
	name  string

	// last is the token the last call ran with, for when the current one
	// cannot be read.
	last lastToken
}

// NewGate returns the Gate of auth for the wrapped server's tools, which
// need the provider named by need. It registers ServerTools with auth
// (sdk.Auth.Protected); an unknown provider is auth's set-up error.
func NewGate(auth *sdk.Auth, need sdk.Requirement) (Gate, error) {
	if err := auth.Protected(ServerTools, need); err != nil {
		return nil, err
	}
	return &authGate{auth: auth, needs: []sdk.Requirement{need}, name: need.Provider}, nil
}

// Current is the provider's token as it stands (memory or a persistent
// store, refreshed when due), never a new login; "" without one.
func (g *authGate) Current(ctx context.Context) (string, error) {
	tok, err := g.auth.CurrentToken(ctx, g.name)
	switch {
	case err == nil:
		g.last.set(tok.AccessToken)
		return tok.AccessToken, nil
	case errors.Is(err, provider.ErrNoToken), errors.Is(err, provider.ErrRefreshFailed):
		g.last.set("")
		return "", nil
	}
	return g.last.get(), err
}

func (g *authGate) Call(ctx context.Context, req *sdk.Request, run func(context.Context, string) error) *sdk.Result {
	return g.auth.Call(ctx, req, g.needs, func(ctx context.Context) error {
		tok, err := sdk.Token(ctx, g.name)
		if err != nil {
			return err
		}
		g.last.set(tok.AccessToken)
		return run(ctx, tok.AccessToken)
	})
}

func (g *authGate) AuthTools() []sdk.AuthTool { return g.auth.AuthTools() }

func (g *authGate) CallAuthTool(ctx context.Context, name string, req *sdk.Request, args map[string]any) *sdk.Result {
	res := g.auth.CallAuthTool(ctx, name, req, args)
	switch {
	case name == sdk.ToolLogout:
		g.last.set("")
	case name == sdk.ToolLogin && res != nil && res.Input == nil && !res.IsError:
		// Logged in: learn the token now, so that the server starts with
		// it for the host's next tools/list. A call with a token shows
		// nothing.
		g.auth.Call(ctx, &sdk.Request{}, g.needs, func(ctx context.Context) error {
			tok, err := sdk.Token(ctx, g.name)
			if err == nil {
				g.last.set(tok.AccessToken)
			}
			return err
		})
	}
	return res
}

func (g *authGate) Bind(l sdk.ToolList) error { return g.auth.Bind(l) }
