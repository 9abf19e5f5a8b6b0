//go:build race

package registry

// raceEnabled builds the faulty plugin with -race too, so that races in
// the plugin side of the protocol fail the suite.
const raceEnabled = true
