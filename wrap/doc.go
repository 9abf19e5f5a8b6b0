// Package wrap is `mcpauth wrap`: a stdio JSON-RPC proxy that puts
// mcpauth's login in front of an unmodified MCP server which reads a
// personal access token from its environment (GITLAB_PERSONAL_ACCESS_TOKEN,
// GITHUB_PERSONAL_ACCESS_TOKEN, ...). The host talks to the proxy as to the
// server; the proxy starts the server with the OAuth token in the variable
// it reads and restarts it when the token changes.
//
//	auth, err := sdk.New(ctx, sdk.Options{ConfigFile: cfg})
//	gate, err := wrap.NewGate(auth, sdk.Need("gitlab"))
//	p, err := wrap.New(wrap.Config{
//		Command: []string{"npx", "-y", "@modelcontextprotocol/server-gitlab"},
//		Env:     "GITLAB_PERSONAL_ACCESS_TOKEN",
//		Gate:    gate,
//	})
//	in, out, err := auth.Stdio()
//	err = p.Serve(ctx, in, out)
//
// The proxy is the third adapter of mcpauth's transport-neutral core
// (package sdk), for raw JSON-RPC, next to sdk/mcpgo and sdk/gosdk: a
// tools/call reaches the server only through sdk.Auth.Call, once a token
// exists; until then the host gets what the core answers (a URL
// elicitation, which the proxy sends to a 2025-11-25 host as
// elicitation/create before calling the core again with the answer; a
// form; a link in a tool result). The core lists the server's tools as one
// protected name, ServerTools, and the auth tools, through sdk.ToolList.
//
// # The wrapped server's runs
//
//   - With a token (in memory, or a stored login), the server starts with it
//     at the host's initialize, and its initialize result (capabilities,
//     serverInfo, instructions) is the host's.
//   - Lazy mode without a token: the server starts with the Placeholder in
//     the variable, so the host can list its tools; only initialize, ping
//     and tools/list reach such a run. The first tools/call logs in, and
//     the server restarts with the token before the call is forwarded.
//   - Explicit mode without a token: the core does not list ServerTools;
//     the proxy answers initialize itself (tools, with listChanged) and
//     lists the auth tools. Once the core lists ServerTools (after
//     auth_login) the server starts, and notifications/tools/list_changed
//     reaches the host before auth_login's result.
//   - Every tools/call runs with the token the core hands it (refreshed
//     when due); a different one than the run has (refresh, step-up)
//     restarts the server between calls: requests in flight are answered
//     first (bounded by Config.DrainTimeout), then the new run gets the
//     host's initialize and notifications/initialized replayed. The host's
//     session and IDs are untouched.
//   - A run that exits fails the requests in flight at it with a JSON-RPC
//     error saying so; the next request starts a new run, and the log says why.
//
// # Messages
//
// Framing is the MCP stdio transport: one JSON-RPC message per line. Every
// request the proxy sends, to the server or to the host, gets a proxy ID;
// the host's and the server's own IDs are mapped back on the answers, so
// IDs from the three sources never collide, across restarts too.
// Cancellations are mapped the same way. Everything else goes through
// unchanged: notifications and progress both ways, the server's requests
// to the host (sampling, elicitation, roots) and their answers,
// resources, prompts and completions (after a login).
//
// The server's stderr is the proxy's stderr. A line on its stdout that is
// not JSON-RPC is dropped (and counted in the log, never quoted): the
// host's stream carries only JSON-RPC.
//
// # The token
//
// The token goes only into the server's environment: never argv, a log
// line, a file or a message to the host. /proc/PID/environ of the server is
// readable by the same user (and root), as is the memory of any process;
// see docs/wrap.md for the limits.
//
// A host speaking MCP 2026-07-28 (no initialize; capabilities in each
// request's _meta) gets the login as an input_required result; the proxy
// does the handshake with the server for it, answers server/discover and
// subscriptions/listen, and completes the server's results as that version
// requires (modern.go).
//
// MCP specification: basic/transports (stdio), basic/lifecycle
// (initialize), basic/utilities/cancellation, client/elicitation.
package wrap
