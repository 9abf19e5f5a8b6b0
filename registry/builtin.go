package registry

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/provider"
)

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
	if !driverplugin.ServesBuiltin(driverName) {
		return PluginSpec{}, fmt.Errorf("registry: this binary does not serve driver %q as a plugin of itself (link the drivers package, or isolation: in-process)", driverName)
	}
	s, err := self()
	if err != nil {
		return PluginSpec{}, err
	}
	spec := PluginSpec{
		Provider: providerName,
		Path:     s.path,
		SHA256:   slices.Clone(s.sha256),
		ExtraEnv: []string{driverplugin.BuiltinDriverEnv + "=" + driverName},
		Config:   cfg,
	}
	// A built-in driver is this binary's own code: the verification hosts
	// it declares (Entra's microsoft.com, Google's www.google.com) count in
	// the host's check of its login URLs. Building it makes no request.
	if f, ok := driverplugin.BuiltinFactory(driverName); ok {
		if d, err := f(context.Background(), cfg); err == nil {
			spec.VerificationHosts = d.Describe().VerificationHosts
			if di, ok := d.(interface{ Issuer() string }); ok {
				spec.Issuer = di.Issuer()
			}
		}
	}
	return spec, nil
}
