//go:build weight_drivers

package main

// Built with -tags weight_drivers, this baseline also links drivers (the catalogue of built-in issuer drivers): the
// binary's size and RSS then show what that import weighs (scripts/bench).
import _ "github.com/mcpauth/mcpauth/drivers"
