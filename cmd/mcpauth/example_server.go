package main

import (
	"context"
	"errors"
	"io"

	"github.com/mcpauth/mcpauth/internal/testserver/fixture"
)

// exampleServerVerb is the hidden command that runs the example MCP server
// (package fixture, the same code as go build ./internal/testserver) inside
// this binary. The demo starts the server by re-executing mcpauth with it,
// so an installed mcpauth needs neither a source checkout nor the go
// command. It is not listed in the help: it is the demo's, not a user's.
//
// Its stdout is the MCP stream and nothing else; logs go to stderr. Built-in
// drivers still work under it: registry's init switches a re-executed
// binary into driver mode before main runs, whatever the arguments.
const exampleServerVerb = "__example-server"

func runExampleServer(ctx context.Context, args []string, stderr io.Writer) error {
	err := fixture.Run(ctx, args, stderr)
	if errors.Is(err, fixture.ErrUsage) {
		return errUsage
	}
	return err
}
