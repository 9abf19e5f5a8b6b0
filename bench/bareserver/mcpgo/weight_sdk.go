//go:build weight_sdk

package main

// Built with -tags weight_sdk, this baseline also links sdk/mcpgo (everything a protected mcp-go server links): the
// binary's size and RSS then show what that import weighs (scripts/bench).
import _ "github.com/mcpauth/mcpauth/sdk/mcpgo"
