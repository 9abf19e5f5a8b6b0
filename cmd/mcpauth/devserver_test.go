package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDevserver runs the devserver command in this process until the test
// ends, and returns what it printed on stdout.
func startDevserver(t *testing.T, args ...string) (devserverInfo, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		err := devserver(ctx, args, pw, stderr)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("devserver: %v\n%s", err, stderr)
		}
		if !strings.Contains(stderr.String(), "Stopping the dev server.") {
			t.Errorf("devserver did not say it stopped:\n%s", stderr)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("devserver printed no line on stdout (%v); stderr:\n%s", err, stderr)
	}
	go io.Copy(io.Discard, pr) // anything more would be a bug; keep the writer unblocked
	var info devserverInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("stdout line %q: %v", line, err)
	}
	return info, stderr
}

func TestDevserverDeviceLogin(t *testing.T) {
	info, stderr := startDevserver(t, "--auto-approve", "--client-id", "my-app")
	if !strings.HasPrefix(info.Issuer, "http://127.0.0.1:") || info.ClientID != "my-app" || !info.AutoApprove || info.Username != "test-user" {
		t.Fatalf("stdout line: %+v", info)
	}
	for _, want := range []string{"issuer      " + info.Issuer, "client id   my-app", "mcpauth login --issuer " + info.Issuer + " --client-id my-app"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	// The login command against it, headless: the device code is approved
	// as soon as it is issued.
	var out bytes.Buffer
	code := run(context.Background(), []string{"login", "--issuer", info.Issuer, "--client-id", info.ClientID,
		"--grant", "device", "--scopes", "openid offline_access"}, &out)
	if code != 0 {
		t.Fatalf("login: exit %d\n%s", code, out.String())
	}
	for _, want := range []string{"Logged in.", "user:    test-user", "scopes:  openid offline_access", "refresh: true"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("login output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDevserverUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"devserver", "--addr", "0.0.0.0:0"}, 2, "want a loopback address"},
		{[]string{"devserver", "--addr", "example.com:80"}, 2, "want a loopback address"},
		{[]string{"devserver", "--client-id", ""}, 2, "--client-id must not be empty"},
		{[]string{"devserver", "extra"}, 2, "unexpected arguments"},
		{[]string{"devserver", "--help"}, 0, "--auto-approve"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), tt.args, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", tt.args, code, tt.code, tt.want, stderr.String())
		}
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// mcpauthBinary builds this command once per test run.
func mcpauthBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mcpauth-cli-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mcpauth")
		buildOut, buildErr = exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// TestDevserverProcess runs the real binary: one JSON line on stdout, a
// browser-style PKCE login through `mcpauth login`, and a clean exit on
// SIGTERM.
func TestDevserverProcess(t *testing.T) {
	bin := mcpauthBinary(t)
	srv := exec.Command(bin, "devserver", "--auto-approve")
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	srvErr := &syncBuffer{}
	srv.Stderr = srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("no stdout line: %v\n%s", err, srvErr)
	}
	var info devserverInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("stdout line %q: %v", line, err)
	}

	// mcpauth login with PKCE and no browser prints the URL; this test is
	// the browser. With --auto-approve the server redirects straight back
	// to the login command's loopback listener.
	login := exec.Command(bin, "login", "--issuer", info.Issuer, "--client-id", info.ClientID, "--grant", "pkce", "--no-browser", "--scopes", "openid")
	loginErr, err := login.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := login.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { login.Process.Kill(); login.Wait() })
	var transcript strings.Builder
	sc := bufio.NewScanner(loginErr)
	for sc.Scan() {
		l := sc.Text()
		transcript.WriteString(l + "\n")
		if u := strings.TrimSpace(l); strings.HasPrefix(u, info.Issuer+"/authorize?") {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatalf("browser: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("browser: the login command's callback answered %d", resp.StatusCode)
			}
		}
	}
	if err := login.Wait(); err != nil {
		t.Fatalf("login: %v\n%s", err, transcript.String())
	}
	if !strings.Contains(transcript.String(), "Logged in.") || !strings.Contains(transcript.String(), "user:    test-user") {
		t.Errorf("login transcript:\n%s", transcript.String())
	}

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out)
	if err := srv.Wait(); err != nil {
		t.Errorf("devserver after SIGTERM: %v\n%s", err, srvErr)
	}
	if len(rest) != 0 {
		t.Errorf("devserver printed more on stdout: %q", rest)
	}
	if !strings.Contains(srvErr.String(), "authorization request approved automatically") {
		t.Errorf("devserver did not log the approval:\n%s", srvErr)
	}
}
