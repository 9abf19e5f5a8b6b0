//go:build !unix

package stdio

import "os"

// Claim returns os.Stdin and os.Stdout unchanged: redirecting the standard
// handles on this platform is not implemented, so child processes and
// stray prints are not kept away from the MCP stream here.
func Claim() (in, out *os.File, err error) { return os.Stdin, os.Stdout, nil }
