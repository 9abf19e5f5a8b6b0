package filestore_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
	"github.com/mcpauth/mcpauth/tokenstore/filelock"
	"github.com/mcpauth/mcpauth/tokenstore/filestore"
)

// The helper process: a server process with its own Store over the
// directories and issuer named by these variables.
const (
	helperDirsEnv   = "FILESTORE_TEST_DIRS" // records dir + "\n" + lock dir
	helperIssuerEnv = "FILESTORE_TEST_ISSUER"
)

// httpRefresher refreshes at a test issuer's token endpoint.
type httpRefresher struct{ url string }

func (r httpRefresher) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url,
		strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t.RefreshToken}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
		Error        string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Error != "" {
		return nil, &provider.OAuthError{Code: body.Error, StatusCode: resp.StatusCode}
	}
	return &provider.Token{AccessToken: body.AccessToken, RefreshToken: body.RefreshToken,
		Expiry: time.Now().Add(time.Duration(body.ExpiresIn) * time.Second)}, nil
}

func processStore(t *testing.T, dirs string) *tokenstore.Store {
	t.Helper()
	records, lockDir, _ := strings.Cut(dirs, "\n")
	f, err := filestore.New(context.Background(), filestore.Config{Dir: records})
	if err != nil {
		t.Fatal(err)
	}
	locks, err := filelock.New(lockDir)
	if err != nil {
		t.Fatal(err)
	}
	return &tokenstore.Store{Backend: f, Locker: locks}
}

func TestHelperServerProcess(t *testing.T) {
	dirs := os.Getenv(helperDirsEnv)
	if dirs == "" {
		t.Skip("helper process for TestRotationAcrossRealProcesses")
	}
	s := processStore(t, dirs)
	os.Stdout.WriteString("ready\n")
	bufio.NewReader(os.Stdin).ReadString('\n') // "go"
	tok, err := s.Token(context.Background(), alice, httpRefresher{os.Getenv(helperIssuerEnv)})
	if err != nil {
		fmt.Printf("error %v\n", err)
		return
	}
	fmt.Printf("token %s\n", tok.AccessToken)
}

// TestRotationAcrossRealProcesses: this process and a second one hold the
// same expired login on disk and refresh at once; the issuer revokes a
// refresh token once used. One refresh request is made, no revoked token
// is sent, and both end with the same access token.
func TestRotationAcrossRealProcesses(t *testing.T) {
	var mu sync.Mutex
	current, calls, refused := "rt-0", 0, 0
	issuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond) // widen the race
		mu.Lock()
		defer mu.Unlock()
		calls++
		w.Header().Set("Content-Type", "application/json")
		if r.FormValue("refresh_token") != current {
			refused++
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		current = fmt.Sprintf("rt-%d", calls)
		fmt.Fprintf(w, `{"access_token":"at-%d","refresh_token":%q,"expires_in":3600}`, calls, current)
	}))
	t.Cleanup(issuer.Close)

	base := t.TempDir()
	dirs := filepath.Join(base, "tokens") + "\n" + filepath.Join(base, "locks")
	parent := processStore(t, dirs)
	expired := &provider.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}
	if err := parent.Save(context.Background(), alice, expired, "Alice"); err != nil {
		t.Fatal(err)
	}
	parent = processStore(t, dirs) // a fresh memory: it loads from disk too

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServerProcess$")
	cmd.Env = append(os.Environ(), helperDirsEnv+"="+dirs, helperIssuerEnv+"="+issuer.URL)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(30 * time.Second):
			t.Fatal("the helper process did not answer")
			return ""
		}
	}
	if l := next(); l != "ready" {
		t.Fatalf("helper: %q", l)
	}
	io.WriteString(stdin, "go\n")
	tok, err := parent.Token(context.Background(), alice, httpRefresher{issuer.URL + "/token"})
	if err != nil {
		t.Fatalf("this process: %v", err)
	}
	var helper string
	for l := next(); l != ""; l = next() {
		if strings.HasPrefix(l, "token ") || strings.HasPrefix(l, "error ") {
			helper = l
			break
		}
	}
	if helper != "token "+tok.AccessToken {
		t.Fatalf("the other process got %q, this one %s", helper, tok.AccessToken)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 || refused != 0 {
		t.Fatalf("%d refresh requests (%d refused) from two processes, want 1 (0)", calls, refused)
	}
}
