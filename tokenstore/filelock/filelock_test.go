package filelock_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/tokenstore/filelock"
)

// holdEnv makes the test binary a lock holder: it takes the lock named by
// the variable in the directory given by holdDirEnv, says "held", and
// sleeps until killed.
const (
	holdEnv    = "FILELOCK_TEST_HOLD"
	holdDirEnv = "FILELOCK_TEST_DIR"
)

func TestHelperHolder(t *testing.T) {
	name := os.Getenv(holdEnv)
	if name == "" {
		t.Skip("helper process for TestLockReleasedWhenHolderDies")
	}
	locks, err := filelock.New(os.Getenv(holdDirEnv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := locks.Lock(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("held\n")
	time.Sleep(time.Minute)
	t.Fatal("the holder was not killed")
}

// TestLockReleasedWhenHolderDies: another process holds the lock and is
// SIGKILLed mid-hold; a waiter gets it within its bound.
func TestLockReleasedWhenHolderDies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	locks, err := filelock.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHolder$", "-test.v")
	cmd.Env = append(os.Environ(), holdEnv+"=refresh alice", holdDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	held := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "held" {
				held <- true
				return
			}
		}
		held <- false
	}()
	select {
	case ok := <-held:
		if !ok {
			t.Fatal("the helper exited without taking the lock")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the helper did not take the lock")
	}

	// Held by the other process: a bounded wait fails at its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := locks.Lock(ctx, "refresh alice"); !errors.Is(err, filelock.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while another process holds it: %v, want ErrTimeout", err)
	}
	// Another name is free.
	unlock, err := locks.Lock(context.Background(), "refresh bob")
	if err != nil {
		t.Fatal(err)
	}
	unlock()

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	unlock, err = locks.Lock(ctx, "refresh alice")
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	unlock()
	t.Logf("acquired %v after the SIGKILL", time.Since(start))
}

// TestLockWithinProcess: goroutines of one process exclude each other too.
func TestLockWithinProcess(t *testing.T) {
	locks, err := filelock.New(filepath.Join(t.TempDir(), "locks"))
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := locks.Lock(context.Background(), "n")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := locks.Lock(ctx, "n"); !errors.Is(err, filelock.ErrTimeout) {
		t.Fatalf("second Lock in one process: %v, want ErrTimeout", err)
	}
	unlock()
	unlock() // idempotent
	unlock, err = locks.Lock(context.Background(), "n")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

func TestNewRefusesOpenDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := filelock.New(dir); !errors.Is(err, filelock.ErrPermissions) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("New on a 0777 directory: %v", err)
	}
}
