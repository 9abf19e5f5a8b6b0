//go:build unix

package stdio

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const childEnv = "MCPAUTH_STDIO_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// child claims the descriptors, then misbehaves the way libraries and
// plugins do: it prints to os.Stdout, reads os.Stdin, and starts a process
// that inherits both. Only what it writes to the claimed file may reach the
// parent's stdout.
func child() int {
	in, out, err := Claim()
	if err != nil {
		fmt.Fprintln(os.Stderr, "claim:", err)
		return 2
	}
	fmt.Println("stray print to os.Stdout")
	n, _ := io.Copy(io.Discard, os.Stdin)
	fmt.Fprintf(os.Stderr, "os.Stdin gave %d bytes\n", n)

	// A plugin-like child inheriting os.Stdin and os.Stdout.
	cmd := exec.Command("sh", "-c", "cat; echo plugin-stdout")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "plugin:", err)
		return 2
	}

	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil {
		fmt.Fprintln(os.Stderr, "read claimed stdin:", err)
		return 2
	}
	fmt.Fprintf(out, "proto:%s", line)
	return 0
}

func TestClaimKeepsTheStreamClean(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdin = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\nstderr:\n%s", err, stderr.String())
	}
	if want := `proto:{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n"; stdout.String() != want {
		t.Errorf("stdout = %q, want only %q", stdout.String(), want)
	}
	for _, s := range []string{"stray print to os.Stdout", "plugin-stdout", "os.Stdin gave 0 bytes"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
		}
	}
}
