// Command mcpauth is the mcpauth command line: log in to an issuer, and (as
// the project grows) discover metadata, run the demo and manage drivers.
//
// Everything for humans goes to stderr; stdout is left to machine output.
// Exit codes: 0 success, 1 the operation failed, 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks a usage error (exit code 2); the message has been printed.
var errUsage = errors.New("usage")

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"demo", "run the example MCP server against a dev identity provider: login, step-up, logout, narrated", runDemo},
		{"login", "log in to an issuer and show who logged in (never the token); --store keeps the login", runLogin},
		{"status", "list the logins kept in the configured token stores (never a token)", runStatus},
		{"logout", "logout PROVIDER | --all: revoke the stored logins at the issuer and remove them", runLogout},
		{"drivers", "list built-in and configured drivers, their grants, and whether each plugin verifies", runDrivers},
		{"plugin", "plugin hash PATH: print the sha256 to put in a config file", runPlugin},
		{"devserver", "run a development identity provider on loopback (device, PKCE, refresh)", runDevserver},
		{"discover", "show an issuer's or API's metadata, where it came from, the driver and the grants", runDiscover},
		{"config", "config validate | init: check the config file, or write an example", runConfig},
		{"wrap", "run an MCP server that reads a token from its environment behind a login: wrap --provider P --env VAR -- CMD", runWrap},
		{"version", "print the mcpauth version", runVersion},
	}
}

// hiddenCommands run like commands but are not in the usage: they are for
// mcpauth itself, which re-executes its own binary with them.
func hiddenCommands() []command {
	return []command{
		{exampleServerVerb, "run the demo's example MCP server over stdio", runExampleServer},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range append(commands(), hiddenCommands()...) {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "mcpauth %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "mcpauth: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: mcpauth <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'mcpauth <command> --help' for a command's flags.\nExit codes: 0 success, 1 failure, 2 usage error.")
}

// newFlagSet returns a flag set that prints its usage to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mcpauth %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; a parse error becomes errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	return nil
}
