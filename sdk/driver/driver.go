// Package driver is what an identity-provider driver plugin's main calls.
// A plugin is a separate binary that mcpauth hosts run as a subprocess over
// hashicorp/go-plugin (gRPC, AutoMTLS), after checking its sha256.
//
//	func main() {
//		driver.Serve(func(ctx context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
//			return corpidp.New(cfg)
//		})
//	}
//
// Serve detaches stdin (the host's stdin may carry JSON-RPC), exits when
// the host dies (go-plugin would leave an orphan), sends log/slog output to
// stderr as JSON that the host re-emits at its level, and never returns.
// Nothing a driver prints to stdout reaches the MCP stream: the host routes
// it to its log. See docs/driver-authors.md.
package driver

import (
	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/provider"
)

// ProtocolVersion is the driver protocol version this SDK speaks.
const ProtocolVersion = driverplugin.ProtocolVersion

// Serve serves the driver built by factory over the driver protocol. The
// factory is called once, when the host configures the plugin; drivers
// built on drivers/oidc discover metadata themselves (discovery.AuthServer).
func Serve(factory provider.DriverFactory) {
	driverplugin.Serve(factory)
}
