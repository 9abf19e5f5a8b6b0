package registry

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/mcpauth/mcpauth/internal/driverplugin"
)

// serveAutoMTLS serves the driver protocol as a plugin built before
// driverplugin's own TLS did: go-plugin's defaults, AutoMTLS only.
func serveAutoMTLS() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  driverplugin.Handshake,
		VersionedPlugins: driverplugin.Plugins(driverplugin.NewServer(envProbeFactory)),
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}

// A plugin that only speaks go-plugin's AutoMTLS (an older sdk/driver)
// still connects: the host offers its certificate the AutoMTLS way too.
// A current plugin takes its key pair off the pipe before the driver
// runs, so the driver's environment does not name it.
func TestAutoMTLSPluginStillConnects(t *testing.T) {
	for _, mode := range []string{"automtls", "envprobe"} {
		t.Run(mode, func(t *testing.T) {
			p := OpenPlugin(testBinarySpec(t, mode))
			defer p.Close()
			if _, err := p.Metadata(context.Background()); err != nil {
				t.Fatalf("Metadata through a %s plugin: %v", mode, err)
			}
			// An older plugin sees the variable (a descriptor number, not
			// the key); a current one consumes it before the driver runs.
			if env := p.Describe().Quirks; mode == "envprobe" && slices.Contains(env, driverplugin.TLSFDEnv) {
				t.Errorf("the driver sees %s in its environment: %q", driverplugin.TLSFDEnv, env)
			}
		})
	}
}

// self is this test binary and its checksum, for specs that run it as a
// plugin the way an external one is run.
var self = sync.OnceValues(func() (selfExe, error) {
	f, err := thisExe()
	if err != nil {
		return selfExe{}, err
	}
	sum, err := sha256Of(f.path)
	return selfExe{path: f.path, sha256: sum}, err
})

type selfExe struct {
	path   string
	sha256 []byte
}
