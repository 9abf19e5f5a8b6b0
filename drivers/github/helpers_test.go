package github_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// canned reads testdata/name and substitutes vars.
func canned(t *testing.T, name string, vars map[string]string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Errorf("testdata: %v", err)
		return nil
	}
	s := strings.TrimSpace(string(b))
	for k, v := range vars {
		s = strings.ReplaceAll(s, k, v)
	}
	return []byte(s)
}

func random() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// browse does what a browser does with the authorization URL: it follows
// the redirects. It fails when they do not end at the loopback callback
// (the fake refused the authorization request); what the callback page says
// is the login's result, reported by the login itself.
func browse(ctx context.Context, authURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.Request.URL.Path != provider.DefaultCallbackPath {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("browser stopped at %s: HTTP %d: %s", resp.Request.URL, resp.StatusCode, b)
	}
	return nil
}

// pkceLogin runs a PKCE login through provider.Login with browse as the
// browser. A browser stopped before the callback ends the login at once.
func pkceLogin(t *testing.T, d provider.Driver, scopes []string) (*provider.Token, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	browserErr := make(chan error, 1)
	login := &provider.Login{
		Preference: provider.PreferPKCE,
		Loopback: provider.Loopback{Timeout: 20 * time.Second, Open: func(_ context.Context, u string) error {
			go func() {
				if err := browse(ctx, u); err != nil {
					browserErr <- err
					cancel()
				}
			}()
			return nil
		}},
	}
	tok, err := login.Run(ctx, d, scopes)
	select {
	case berr := <-browserErr:
		return nil, fmt.Errorf("%w (browser: %v)", err, berr)
	default:
	}
	return tok, err
}

// fastSleep records the intervals the poller asks for and returns at once
// (the fake does not judge timing).
type fastSleep struct {
	mu        sync.Mutex
	intervals []time.Duration
}

func (f *fastSleep) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.intervals = append(f.intervals, d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fastSleep) waited() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.intervals)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
