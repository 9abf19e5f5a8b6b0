package registry

import (
	"context"
	"crypto/tls"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/mcpauth/mcpauth/internal/driverpb"
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

// The plugin serves only its host: a client with another certificate, or
// none, or without TLS, is refused before any call reaches the driver.
func TestPluginRefusesOtherClients(t *testing.T) {
	p := OpenPlugin(testBinarySpec(t, "envprobe"))
	defer p.Close()
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.sup.mu.Lock()
	addr := p.sup.proc.ReattachConfig().Addr
	p.sup.mu.Unlock()

	other, err := driverplugin.NewPluginTLS() // a stranger's certificate
	if err != nil {
		t.Fatal(err)
	}
	stranger := other.Config.Clone()
	stranger.RootCAs, stranger.InsecureSkipVerify = nil, true
	for name, creds := range map[string]credentials.TransportCredentials{
		"another certificate": credentials.NewTLS(stranger),
		"no certificate":      credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}),
		"no TLS":              insecure.NewCredentials(),
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := grpc.NewClient("unix:"+addr.String(), grpc.WithTransportCredentials(creds))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := pb.NewDriverClient(conn).Capabilities(ctx, &pb.CapabilitiesRequest{}); err == nil {
				t.Fatal("the plugin answered a client that is not its host")
			}
		})
	}
}
