package driverplugin

import (
	"os"
	"sync"

	"github.com/mcpauth/mcpauth/provider"
)

var (
	builtinMu sync.Mutex
	builtins  = map[string]provider.DriverFactory{}
)

// ServeBuiltins records catalog as the drivers this binary serves as
// plugins of itself, and, when go-plugin started this process to serve one
// of them, serves it and never returns. Built-in drivers run as
// subprocesses by re-executing the host binary, so nothing extra is
// installed. Call it from an init function: both the magic cookie and the
// driver name must be set, which an ordinary start never has.
func ServeBuiltins(catalog []provider.Registration) {
	builtinMu.Lock()
	for _, r := range catalog {
		builtins[r.Name] = r.New
	}
	builtinMu.Unlock()
	if f, ok := builtinFactory(BuiltinDriverMode(os.Getenv)); ok {
		Serve(f)
	}
}

// ServesBuiltin reports whether this binary serves the named driver as a
// plugin of itself.
func ServesBuiltin(name string) bool {
	_, ok := builtinFactory(name)
	return ok
}

// BuiltinFactory returns the factory of a driver this binary serves as a
// plugin of itself.
func BuiltinFactory(name string) (provider.DriverFactory, bool) { return builtinFactory(name) }

func builtinFactory(name string) (provider.DriverFactory, bool) {
	builtinMu.Lock()
	defer builtinMu.Unlock()
	f, ok := builtins[name]
	return f, ok
}
