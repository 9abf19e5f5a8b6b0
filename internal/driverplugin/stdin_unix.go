//go:build unix

package driverplugin

import (
	"os"

	"golang.org/x/sys/unix"
)

// detachStdin points fd 0 at /dev/null: a driver that reads stdin by mistake
// then reads nothing instead of the host's JSON-RPC input.
func detachStdin() {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return
	}
	if unix.Dup2(int(null.Fd()), 0) == nil {
		os.Stdin = os.NewFile(0, os.DevNull)
	}
	null.Close()
}
