//go:build unix

package driverplugin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// IsolateProcessGroup makes the plugin the leader of a process group of its
// own, so that KillProcessGroup takes every process it started with it:
// go-plugin kills only the plugin's own PID, and a child that keeps the
// plugin's output pipes open would also keep go-plugin's Kill waiting.
func IsolateProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// KillProcessGroup sends SIGKILL to the process group pgid leads. A group
// already gone is not an error.
func KillProcessGroup(pgid int) error {
	if pgid <= 1 {
		return nil
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("driverplugin: killing process group %d: %w", pgid, err)
	}
	return nil
}

// CheckNotWritableByOthers refuses path when it, or any directory above
// it, is writable by group or others, or is owned by someone other than
// this user or root: whoever can write there can replace the plugin. A
// sticky directory (/tmp) is allowed, since others cannot rename or remove
// the entries they do not own, and the entry below it is checked in turn.
func CheckNotWritableByOthers(path string) error {
	uid := os.Geteuid()
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid && st.Uid != 0 {
			return fmt.Errorf("%q is owned by uid %d, neither this user (%d) nor root", p, st.Uid, uid)
		}
		sticky := fi.IsDir() && fi.Mode()&os.ModeSticky != 0
		if fi.Mode().Perm()&0o022 != 0 && !sticky {
			return fmt.Errorf("%q is writable by others than its owner (%s); `chmod go-w %s` if that is not meant", p, fi.Mode(), p)
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}
