//go:build !unix

package driverplugin

import "os"

func detachStdin() {
	if null, err := os.Open(os.DevNull); err == nil {
		os.Stdin = null
	}
}
