//go:build unix

package stdio

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

var (
	claimOnce sync.Once
	claimIn   *os.File
	claimOut  *os.File
	claimErr  error
)

// Claim duplicates fds 0 and 1 into new close-on-exec descriptors for the
// MCP transport, then redirects fd 0 to /dev/null and fd 1 to fd 2. It is
// idempotent: later calls return the same files.
func Claim() (in, out *os.File, err error) {
	claimOnce.Do(func() { claimIn, claimOut, claimErr = claim() })
	return claimIn, claimOut, claimErr
}

func claim() (*os.File, *os.File, error) {
	// Hold ForkLock while the new descriptors exist without FD_CLOEXEC, so
	// a concurrent os/exec cannot leak them into a child (the same lock
	// os.Pipe and net use for this).
	syscall.ForkLock.Lock()
	defer syscall.ForkLock.Unlock()

	inFD, err := syscall.Dup(0)
	if err != nil {
		return nil, nil, fmt.Errorf("stdio: dup stdin: %w", err)
	}
	syscall.CloseOnExec(inFD)
	outFD, err := syscall.Dup(1)
	if err != nil {
		syscall.Close(inFD)
		return nil, nil, fmt.Errorf("stdio: dup stdout: %w", err)
	}
	syscall.CloseOnExec(outFD)

	null, err := syscall.Open(os.DevNull, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		syscall.Close(inFD)
		syscall.Close(outFD)
		return nil, nil, fmt.Errorf("stdio: open %s: %w", os.DevNull, err)
	}
	defer syscall.Close(null)
	if err := dup2(null, 0); err != nil {
		syscall.Close(inFD)
		syscall.Close(outFD)
		return nil, nil, fmt.Errorf("stdio: redirect stdin to %s: %w", os.DevNull, err)
	}
	if err := dup2(2, 1); err != nil {
		syscall.Close(inFD)
		syscall.Close(outFD)
		return nil, nil, fmt.Errorf("stdio: redirect stdout to stderr: %w", err)
	}
	return os.NewFile(uintptr(inFD), "mcp-stdin"), os.NewFile(uintptr(outFD), "mcp-stdout"), nil
}
