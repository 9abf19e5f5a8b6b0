//go:build weight_goplugin

package main

// Built with -tags weight_goplugin, this baseline also links go-plugin (its client and server, gRPC, protobuf): the
// binary's size and RSS then show what that import weighs (scripts/bench).
import _ "github.com/hashicorp/go-plugin"
