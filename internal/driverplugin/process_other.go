//go:build !unix

package driverplugin

import "os/exec"

// IsolateProcessGroup does nothing here: without POSIX process groups, a
// plugin's children are not killed with it (a documented limit).
func IsolateProcessGroup(*exec.Cmd) {}

// KillProcessGroup does nothing here; go-plugin still kills the plugin.
func KillProcessGroup(int) error { return nil }

// CheckNotWritableByOthers does not check Windows ACLs; the checksum of the
// private copy that runs still holds.
func CheckNotWritableByOthers(string) error { return nil }
