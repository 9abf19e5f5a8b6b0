//go:build tools

// Package tools pins the code generators for the driver protocol, kept in
// their own module so they never reach mcpauth's dependency graph.
package tools

import (
	_ "google.golang.org/grpc/cmd/protoc-gen-go-grpc"
	_ "google.golang.org/protobuf/cmd/protoc-gen-go"
)
