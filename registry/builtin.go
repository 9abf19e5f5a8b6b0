package registry

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/mcpauth/mcpauth/drivers/github"
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/drivers/slack"
	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/provider"
)

// builtins are the drivers compiled into every host.
var builtins = map[string]provider.DriverFactory{
	oidc.Name:   oidc.Registration.New,
	github.Name: github.Registration.New,
	slack.Name:  slack.Registration.New,
	okta.Name:   okta.Registration.New,
}

// Builtins lists the built-in driver names.
func Builtins() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// BuiltinFactory returns the factory of a built-in driver.
func BuiltinFactory(name string) (provider.DriverFactory, bool) {
	f, ok := builtins[name]
	return f, ok
}

// init turns any binary that links the registry into a driver plugin when
// go-plugin started it to serve a built-in driver: built-in drivers run as
// subprocesses by re-executing the host binary, so nothing extra is
// installed. Both the go-plugin magic cookie and the driver name must be set;
// an ordinary start never has them.
func init() {
	if f, ok := builtins[driverplugin.BuiltinDriverMode(os.Getenv)]; ok {
		driverplugin.Serve(f)
	}
}

// self is the host executable and its checksum, computed once: built-in
// plugins re-execute it, verified like any plugin.
var self = sync.OnceValues(func() (selfExe, error) {
	exe, err := os.Executable()
	if err != nil {
		return selfExe{}, fmt.Errorf("registry: locating this executable to run a built-in driver: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return selfExe{}, fmt.Errorf("registry: resolving this executable: %w", err)
	}
	sum, err := fileSHA256(exe)
	if err != nil {
		return selfExe{}, fmt.Errorf("registry: hashing this executable: %w", err)
	}
	raw, _ := hex.DecodeString(sum)
	return selfExe{path: exe, sha256: raw}, nil
})

type selfExe struct {
	path   string
	sha256 []byte
}

// BuiltinPluginSpec is the spec that runs built-in driver name as a
// subprocess of this executable.
func BuiltinPluginSpec(providerName, driverName string, cfg provider.DriverConfig) (PluginSpec, error) {
	if _, ok := builtins[driverName]; !ok {
		return PluginSpec{}, fmt.Errorf("registry: no built-in driver %q (built-in: %v)", driverName, Builtins())
	}
	s, err := self()
	if err != nil {
		return PluginSpec{}, err
	}
	return PluginSpec{
		Provider: providerName,
		Path:     s.path,
		SHA256:   slices.Clone(s.sha256),
		ExtraEnv: []string{driverplugin.BuiltinDriverEnv + "=" + driverName},
		Config:   cfg,
	}, nil
}
