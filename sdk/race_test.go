//go:build race

package sdk_test

// raceEnabled builds the example server with -race too, so that races in
// mcpauth running in the subprocess fail the tests.
const raceEnabled = true
