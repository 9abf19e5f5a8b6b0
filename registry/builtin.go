package registry

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/provider"
)

// thisExe is the host executable, which built-in plugins re-execute:
// its path, and its identity when it is taken (see selfFile).
var thisExe = sync.OnceValues(func() (*selfFile, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("registry: locating this executable to run a built-in driver: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return nil, fmt.Errorf("registry: resolving this executable: %w", err)
	}
	f := &selfFile{path: exe}
	if f.id, f.hasID, err = statID(exe, true); err != nil {
		return nil, fmt.Errorf("registry: this executable: %w", err)
	}
	if !f.hasID { // no identity to hold it to: its checksum now
		if f.sum, err = sha256Of(exe); err != nil {
			return nil, fmt.Errorf("registry: hashing this executable: %w", err)
		}
	}
	return f, nil
})

// BuiltinPluginSpec is the spec that runs built-in driver name as a
// subprocess of this executable.
func BuiltinPluginSpec(providerName, driverName string, cfg provider.DriverConfig) (PluginSpec, error) {
	if !driverplugin.ServesBuiltin(driverName) {
		return PluginSpec{}, fmt.Errorf("registry: this binary does not serve driver %q as a plugin of itself (link the drivers package, or isolation: in-process)", driverName)
	}
	s, err := thisExe()
	if err != nil {
		return PluginSpec{}, err
	}
	spec := PluginSpec{
		Provider: providerName,
		Path:     s.path,
		ExtraEnv: []string{driverplugin.BuiltinDriverEnv + "=" + driverName},
		Config:   cfg,
		self:     s,
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
