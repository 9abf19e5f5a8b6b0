// Package driverpb holds the generated gRPC code of the driver protocol
// (driver.proto). Its types never leave internal/: the plugin layer
// converts them to provider types.
package driverpb

// Regenerate with protoc (Debian: protobuf-compiler) and the generators
// pinned in tools/go.mod; CI regenerates and fails on a difference.
//go:generate sh gen.sh
