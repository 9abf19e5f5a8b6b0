// Package sdk is what a stdio MCP server uses to obtain OAuth tokens at run
// time, for the APIs its tools call, instead of reading a long-lived
// personal access token from a config file. (The package is sdk; the
// product and its messages say "mcpauth".)
//
// Package sdk is the transport-neutral core and imports no MCP SDK; the
// adapters sdk/mcpgo (mark3labs/mcp-go) and sdk/gosdk (the official
// modelcontextprotocol/go-sdk) protect tools of a server on either. The
// author declares the providers the tools need, with defaults; the user's
// config file and MCPAUTH_* variables override them field by field (see
// Options and package config):
//
//	auth, err := sdk.New(ctx, sdk.Options{
//		ServerName: "my-server",
//		Providers: []config.Provider{
//			{Name: "github", Issuer: "https://github.com", ClientID: "Iv1.0123456789abcdef", Scopes: []string{"repo"}},
//		},
//	})
//	s := server.NewMCPServer("my-server", "1.0.0", server.WithToolCapabilities(true))
//	mcpgo.Protect(auth, s, mcp.NewTool("list_repos"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
//		resp, err := sdk.HTTPClient(ctx, "github").Get("https://api.github.com/user/repos")
//		...
//	}, sdk.Need("github", "repo"))
//	err = mcpgo.ServeStdio(ctx, auth, s)
//
// The adapters' ExampleProtect are the same, compiled. A tool needing a
// provider nobody configured is a set-up error the adapter's ServeStdio or
// Run returns before serving.
//
// # Adapters
//
// An adapter turns each tools/call into a Request and calls Auth.Call,
// answering with its handler's result or with the Result the core returns
// (a login to show, "still waiting", a failure); it lists and unlists tools
// when the core says (ToolList, Attach), turns AuthTools into its SDK's
// tools (CallAuthTool), and serves on the writer Stdio returns.
//
// # Modes
//
// Lazy (the default) lists every tool. A protected call without a token
// starts the provider's login — or joins the one in flight: there is one
// login per provider at a time, whatever the number of calls — shows it to
// the user, waits for it (Options.WaitTimeout) and then runs. Explicit
// lists auth_login and auth_status until the user logs in; the protected
// tools then appear, and notifications/tools/list_changed is written before
// auth_login's result. auth_logout forgets the token. Lazy mode lists
// auth_status and auth_logout too (Options.HideAuthTools). With
// Options.FilterToolsByScope a tool whose scopes the token lacks is left out
// of tools/list.
//
// # Showing the login
//
// By what the client declared, per request:
//
//   - MCP 2026-07-28 clients with URL elicitation: an input_required result
//     carrying a URL-mode elicitation (SEP-2322 multi round trip); the client
//     retries the call with the user's answer.
//   - MCP 2025-11-25 clients with elicitation.url: elicitation/create in URL
//     mode with a fresh elicitationId (the adapter's SDK sends it on the
//     handler's behalf), then notifications/elicitation/complete when the
//     login succeeds.
//   - Clients with form elicitation only: a form carrying the device code
//     and the verification URI as text (the device grant is used then).
//   - Clients without elicitation: a tool result with the link and the code,
//     asking to call the tool again; the login goes on in the background.
//
// decline and cancel stop the login and the tool does not run; an answer
// naming a login that is no longer current is refused (ErrStaleFlow). The
// URL shown is the authorization server's own verification_uri or the
// authorization URL the driver built, its host checked against the
// issuer's; the elicitation message carries the code, never the URL. While
// a call waits, notifications/progress go to the caller's progressToken, if
// it sent one, at once and every 5 s; a call without one answers "still
// waiting" after Options.QuietWait, before a client's request timeout. In
// text, the link and the code stand on lines of their own. A browser login
// started by a client that cannot show a link opens the desktop browser
// where one is likely (Options.NoBrowser).
//
// The grant is chosen per login by login.SelectGrant: authorization code
// with PKCE and a loopback redirect (RFC 8252) when a browser on this
// machine is likely, the device grant (RFC 8628) otherwise, overridable per
// provider (config grant:).
//
// # Tokens
//
// Tokens live in memory only by default (tokenstore.Store, keyed by
// provider, issuer, client and subject), are refreshed on demand, and never
// reach stdout, a log, a tool result or an elicitation. The user may opt in
// to a persistent store (config store: keychain or file, per provider or for
// all): a login then survives restarts and is shared by every server process
// of the user — logins run under a cross-process lock, and a process that
// waited for it uses the login another stored instead of prompting again.
// auth_login with account "add" logs in another account beside the current
// one; auth_logout revokes the token at the issuer (RFC 7009) where it
// offers revocation, then forgets it everywhere. Tool handlers read them with
// Token, or better use HTTPClient, which also performs scope step-up
// (RFC 6750 §3.1 insufficient_scope; SEP-835).
//
// # Client ID Metadata Documents
//
// A host may pass its Client ID Metadata Document URL in the
// MCP_OAUTH_CLIENT_ID environment variable or in the client capability
// CapabilityClientIDMetadataDocument. It is used as client_id only where the
// authorization server metadata says client_id_metadata_document_supported
// and only if it is an https URL with a path; otherwise it is ignored, with a
// log line on stderr saying why. mcpauth never fetches it.
//
// # stdout
//
// Stdio (called by the adapters' ServeStdio and Run) claims fds 0 and 1 for the MCP transport before serving, so
// nothing else in the process — a library's print, a plugin inheriting
// stdin — can read or corrupt the JSON-RPC stream. Logs go to stderr.
package sdk
