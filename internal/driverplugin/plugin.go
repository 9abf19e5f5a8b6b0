// Package driverplugin is the go-plugin glue of the driver protocol: the
// handshake, the gRPC server a plugin runs around a provider.Driver, and the
// host-side client that is itself a provider.Driver. The supervisor that
// starts, verifies and restarts plugin processes is in registry; the public
// entry point for plugin authors is sdk/driver.
package driverplugin

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/mcpauth/mcpauth/internal/driverpb"
)

// Protocol versions. ProtocolVersion is negotiated by go-plugin
// (VersionedPlugins): a plugin speaking another major version is refused at
// the handshake. ProtocolMinor grows with additive changes, which a host
// detects through Capabilities. Minor 1 added Revoke; minor 2 the client
// secret, endpoint overrides and extra parameters in Configure, and the API
// origins, shown-URL hosts and loopback rules in Description.
const (
	ProtocolVersion = 1
	ProtocolMinor   = 2
	// PluginName is the name the driver service is dispensed under.
	PluginName = "driver"
)

// Handshake guards against running a plugin binary by hand, or a binary that
// is not an mcpauth driver (go-plugin's magic cookie; not a security
// feature: the sha256 check is).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "MCPAUTH_DRIVER_PLUGIN",
	MagicCookieValue: "7f3c2a9e-mcpauth-driver",
}

// BuiltinDriverEnv names the built-in driver a re-executed host binary must
// serve: hosts run built-in drivers as subprocesses of their own binary, so
// nothing extra is installed. Together with the magic cookie it switches
// the binary into driver mode (package drivers does the switch; the
// registry sets the variable).
const BuiltinDriverEnv = "MCPAUTH_BUILTIN_DRIVER"

// BuiltinDriverMode returns the name of the built-in driver this process
// was started to serve, or "" for an ordinary start: both the driver name
// and go-plugin's magic cookie must be set.
func BuiltinDriverMode(getenv func(string) string) string {
	if getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		return ""
	}
	return getenv(BuiltinDriverEnv)
}

// Plugins returns the versioned plugin set. On the host side, server is nil.
func Plugins(server *Server) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &grpcPlugin{server: server}},
	}
}

// grpcPlugin implements plugin.GRPCPlugin for the driver service.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	server *Server
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterDriverServer(s, p.server)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pb.NewDriverClient(c), nil
}
