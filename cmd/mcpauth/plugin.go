package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mcpauth/mcpauth/registry"
)

func runPlugin(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "hash" {
		fmt.Fprintln(stderr, "Usage: mcpauth plugin hash PATH\n\nPrints the sha256 a config file's plugin.sha256 must hold.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errUsage
	}
	fs := newFlagSet("plugin hash", "plugin hash PATH", stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	sum, err := registry.FileSHA256(real)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, sum)
	fmt.Fprintf(stderr, "\nIn the config file:\n\n    plugin:\n      path: %s\n      sha256: %s\n", filepath.Base(real), sum)
	return nil
}
