// Package stdio claims the process's standard input and output for the MCP
// transport of a stdio server.
//
// A stdio MCP server speaks JSON-RPC on fds 0 and 1, and anything else that
// reads fd 0 or writes fd 1 corrupts that stream: a library that prints to
// os.Stdout, or a child process that inherits them (hashicorp/go-plugin
// hands every plugin the host's os.Stdin unconditionally). Claim moves the
// transport to fresh descriptors and points fds 0 and 1 elsewhere, so from
// then on:
//
//   - os.Stdin (fd 0) reads /dev/null: anything reading it gets EOF at once;
//   - os.Stdout (fd 1) writes to stderr (fd 2): stray prints end up in the
//     log the host shows, not in the protocol stream;
//   - the returned files are the only way to the client, and they are
//     close-on-exec, so no child process inherits them.
//
// Usage:
//
//	in, out, err := stdio.Claim()
//	if err != nil { ... }
//	server.NewStdioServer(s).Listen(ctx, in, out)
//
// Claim must be called once, early, before anything starts child processes.
// On Windows it returns os.Stdin and os.Stdout unchanged (see claim_other.go).
package stdio
