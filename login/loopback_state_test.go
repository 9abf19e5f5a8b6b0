package login

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// gatedExchanger counts exchanges and holds each until gate is closed, so a
// test can send a second callback while the first one is still exchanging.
type gatedExchanger struct {
	recordingExchanger
	gate      chan struct{}
	exchanges atomic.Int32
}

func (g *gatedExchanger) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	g.exchanges.Add(1)
	<-g.gate
	return g.recordingExchanger.Exchange(ctx, code, verifier, redirect)
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestLoopbackStrayAndReplayedCallbacks: a callback with a missing or wrong
// state is not this login's (RFC 6749 §10.12: it may be a forged request)
// and is answered with a page, but does not end the login, or anyone able
// to reach the port could cancel it; a valid state is single-use, so a
// replayed callback never runs a second exchange.
func TestLoopbackStrayAndReplayedCallbacks(t *testing.T) {
	x := &gatedExchanger{gate: make(chan struct{})}
	type page struct {
		status int
		body   string
	}
	var (
		mu    sync.Mutex
		pages = map[string]page{}
		wg    sync.WaitGroup
	)
	record := func(name, u string) {
		st, b := get(t, u)
		mu.Lock()
		pages[name] = page{st, b}
		mu.Unlock()
	}
	open := func(ctx context.Context, _ string) error {
		base := x.req.RedirectURI + "?"
		good := base + url.Values{"state": {x.req.State}, "code": {"the-code"}}.Encode()
		wg.Add(1)
		go func() {
			defer wg.Done()
			record("missing", base+url.Values{"code": {"the-code"}}.Encode())
			record("wrong", base+url.Values{"state": {`<b>forged</b>`}, "code": {"the-code"}}.Encode())
			record("wrong error", base+url.Values{"state": {"forged"}, "error": {"access_denied"}}.Encode())
			first := make(chan struct{})
			go func() { defer close(first); record("first", good) }()
			// Wait until the first callback is in its exchange, then replay it.
			for i := 0; x.exchanges.Load() == 0 && i < 1000; i++ {
				time.Sleep(5 * time.Millisecond)
			}
			record("replay", good)
			close(x.gate)
			<-first
		}()
		return nil
	}
	l := &Loopback{Timeout: 20 * time.Second, Open: open}
	tok, err := l.Authorize(context.Background(), x, &provider.AuthServerMetadata{Issuer: "https://as.example"}, []string{"openid"})
	wg.Wait()
	if err != nil || tok == nil || tok.AccessToken != "at" {
		t.Fatalf("Authorize = %v, %v; want the token of the valid callback (stray callbacks must not end the login)", tok, err)
	}
	if n := x.exchanges.Load(); n != 1 {
		t.Errorf("%d exchanges, want exactly 1 (state is single-use)", n)
	}
	for _, name := range []string{"missing", "wrong", "wrong error"} {
		p := pages[name]
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "state") {
			t.Errorf("%s state: HTTP %d, page %q; want 400 and a page about the state", name, p.status, p.body)
		}
		if strings.Contains(p.body, "<b>") {
			t.Errorf("%s state: page carries unescaped input: %s", name, p.body)
		}
	}
	if p := pages["replay"]; !strings.Contains(p.body, "already completed") {
		t.Errorf("replayed callback: HTTP %d, page %q; want a page saying the login already completed", p.status, p.body)
	}
	if p := pages["first"]; !strings.Contains(p.body, "Login complete") {
		t.Errorf("first valid callback: page %q", p.body)
	}
	assertClosed(t, x.req.RedirectURI)
}
