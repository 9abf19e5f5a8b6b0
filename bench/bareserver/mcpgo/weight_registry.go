//go:build weight_registry

package main

// Built with -tags weight_registry, this baseline also links registry (discovery, resolution, the plugin supervisor): the
// binary's size and RSS then show what that import weighs (scripts/bench).
import _ "github.com/mcpauth/mcpauth/registry"
