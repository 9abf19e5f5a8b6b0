package faulttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Limits of the proxy.
const (
	// DefaultHoldBound is how long a Hold fault keeps a request when the
	// client never gives up: long against any client timeout a test sets,
	// short enough that a broken test still ends.
	DefaultHoldBound = 10 * time.Second
	// OversizeBytes is the size of an Oversize body: over the 1 MiB cap
	// discovery and the drivers apply.
	OversizeBytes = 1<<20 + 64<<10
	// BodyMarker is in every body the proxy makes up (HTML pages, padding),
	// so a test can check that an error message does not quote the body.
	BodyMarker = "FAULTTEST-BODY-MARKER"
	// maxUpstreamBody caps what the proxy reads from the upstream.
	maxUpstreamBody = 4 << 20
)

// Kind is what a Fault does to a request.
type Kind int

// Fault kinds.
const (
	KindPass       Kind = iota // forward unchanged (apart from the origin rewrite)
	KindStatus                 // answer Status with an HTML error page; not forwarded
	KindReset                  // reset the connection before forwarding
	KindResetAfter             // forward, then reset instead of answering
	KindHold                   // hold until the client gives up (or HoldBound); not forwarded
	KindTruncate               // forward, send half the body under the full Content-Length
	KindOversize               // answer 200 application/json of OversizeBytes; not forwarded
	KindHTML                   // answer 200 text/html; not forwarded
	KindAnswer                 // answer Status with Body as application/json; not forwarded
	KindRewrite                // forward, then apply Mutate to the JSON object answered
)

var kindNames = map[Kind]string{
	KindPass: "pass", KindStatus: "status", KindReset: "reset", KindResetAfter: "reset-after-upstream",
	KindHold: "hold", KindTruncate: "truncate", KindOversize: "oversize", KindHTML: "html",
	KindAnswer: "answer", KindRewrite: "rewrite",
}

func (k Kind) String() string { return kindNames[k] }

// Fault is one injected failure.
type Fault struct {
	Kind   Kind
	Status int                      // KindStatus, KindAnswer
	Body   string                   // KindAnswer
	Mutate func(doc map[string]any) // KindRewrite
}

func (f Fault) String() string {
	if f.Status != 0 {
		return fmt.Sprintf("%s %d", f.Kind, f.Status)
	}
	return f.Kind.String()
}

// Pass forwards the request.
func Pass() Fault { return Fault{Kind: KindPass} }

// Status answers with an HTTP status and an HTML error page, the way a
// gateway in front of an authorization server does.
func Status(code int) Fault { return Fault{Kind: KindStatus, Status: code} }

// Reset closes the connection with a TCP reset before the upstream sees
// the request.
func Reset() Fault { return Fault{Kind: KindReset} }

// ResetAfterUpstream forwards the request, lets the upstream act on it, and
// resets the connection instead of relaying the answer: a lost response.
func ResetAfterUpstream() Fault { return Fault{Kind: KindResetAfter} }

// Hold keeps the request unanswered until the client gives up, or
// Proxy.HoldBound passes (then 504), or the proxy closes.
func Hold() Fault { return Fault{Kind: KindHold} }

// Truncate forwards the request and relays half of the answer's body under
// the full Content-Length, then closes the connection.
func Truncate() Fault { return Fault{Kind: KindTruncate} }

// Oversize answers 200 with a JSON body larger than 1 MiB.
func Oversize() Fault { return Fault{Kind: KindOversize} }

// HTML answers 200 with an HTML page (a captive portal, a login wall).
func HTML() Fault { return Fault{Kind: KindHTML} }

// Answer answers with a canned JSON body.
func Answer(status int, body string) Fault {
	return Fault{Kind: KindAnswer, Status: status, Body: body}
}

// Rewrite forwards the request and applies mutate to the JSON object the
// upstream answered.
func Rewrite(mutate func(doc map[string]any)) Fault { return Fault{Kind: KindRewrite, Mutate: mutate} }

// script is the faults for one path: request i since Script gets seq[i],
// later requests get then.
type script struct {
	seq  []Fault
	then Fault
	next int
}

// Proxy is a fault-injecting reverse proxy on 127.0.0.1. Configure it with
// Script and Always; read what happened with Requests, Reached and
// Injected. It is safe for concurrent use.
type Proxy struct {
	// URL is the proxy's origin, "http://127.0.0.1:PORT".
	URL string
	// HoldBound bounds a Hold fault; DefaultHoldBound if zero. Set it
	// before the first request.
	HoldBound time.Duration

	upstream string
	client   *http.Client
	srv      *http.Server
	served   chan struct{}
	done     chan struct{}
	handlers sync.WaitGroup

	mu       sync.Mutex
	scripts  map[string]*script
	requests map[string]int
	reached  map[string]int
	injected map[string]int

	closeOnce sync.Once
}

// Start starts a proxy in front of upstream (an origin such as an OP's
// issuer) and closes it when the test ends.
func Start(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p, err := New(upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// New starts a proxy in front of upstream; the caller must Close it.
func New(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faulttest: listen: %w", err)
	}
	p := &Proxy{
		URL:      "http://" + ln.Addr().String(),
		upstream: strings.TrimSuffix(upstream, "/"),
		client: &http.Client{
			Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64},
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // relayed to the client, rewritten
			},
		},
		served:   make(chan struct{}),
		done:     make(chan struct{}),
		scripts:  make(map[string]*script),
		requests: make(map[string]int),
		reached:  make(map[string]int),
		injected: make(map[string]int),
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.served)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// Close stops the proxy: held requests are released, connections closed,
// and Close returns when every handler has returned.
func (p *Proxy) Close() {
	p.closeOnce.Do(func() {
		close(p.done)
		_ = p.srv.Close()
		<-p.served
		p.handlers.Wait()
		p.client.CloseIdleConnections()
	})
}

// Script sets the faults for the requests to path from now on: the i-th
// next request gets faults[i]; requests after the last fault pass.
func (p *Proxy) Script(path string, faults ...Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scripts[path] = &script{seq: faults, then: Pass()}
}

// Always applies f to every request to path from now on.
func (p *Proxy) Always(path string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scripts[path] = &script{then: f}
}

// Clear removes every fault: all requests pass from now on.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scripts = make(map[string]*script)
}

// Requests reports how many requests to path arrived at the proxy.
func (p *Proxy) Requests(path string) int { return p.count(p.requests, path) }

// Reached reports how many requests to path the proxy forwarded upstream.
func (p *Proxy) Reached(path string) int { return p.count(p.reached, path) }

// Injected reports how many requests to path got a fault other than Pass.
func (p *Proxy) Injected(path string) int { return p.count(p.injected, path) }

func (p *Proxy) count(m map[string]int, path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return m[path]
}

func (p *Proxy) fault(path string) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests[path]++
	f := Pass()
	if s := p.scripts[path]; s != nil {
		if s.next < len(s.seq) {
			f = s.seq[s.next]
			s.next++
		} else {
			f = s.then
		}
	}
	if f.Kind != KindPass {
		p.injected[path]++
	}
	return f
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.handlers.Add(1)
	defer p.handlers.Done()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxUpstreamBody))
	if err != nil {
		http.Error(w, "faulttest: reading the request", http.StatusBadRequest)
		return
	}
	f := p.fault(r.URL.Path)
	switch f.Kind {
	case KindStatus:
		writeBody(w, f.Status, "text/html; charset=utf-8", errorPage(f.Status))
		return
	case KindReset:
		reset(w)
		return
	case KindHold:
		p.hold(w, r)
		return
	case KindOversize:
		writeBody(w, http.StatusOK, "application/json", oversizeJSON(p.URL))
		return
	case KindHTML:
		writeBody(w, http.StatusOK, "text/html; charset=utf-8", []byte("<!doctype html><html><body><h1>Sign in to continue</h1><p>"+BodyMarker+"</p></body></html>"))
		return
	case KindAnswer:
		writeBody(w, f.Status, "application/json", []byte(f.Body))
		return
	}

	resp, respBody, err := p.forward(r, body)
	if err != nil {
		http.Error(w, "faulttest: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	switch f.Kind {
	case KindResetAfter:
		reset(w)
		return
	case KindRewrite:
		var doc map[string]any
		if err := json.Unmarshal(respBody, &doc); err != nil {
			http.Error(w, "faulttest: rewrite: upstream answer is not a JSON object", http.StatusBadGateway)
			return
		}
		f.Mutate(doc)
		if respBody, err = json.Marshal(doc); err != nil {
			http.Error(w, "faulttest: rewrite: "+err.Error(), http.StatusBadGateway)
			return
		}
	}
	for k, vs := range resp.Header {
		if k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, strings.ReplaceAll(v, p.upstream, p.URL))
		}
	}
	if f.Kind == KindTruncate {
		truncate(w, resp, respBody)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(respBody)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

// forward sends the request upstream and returns the answer with the
// upstream's origin replaced by the proxy's.
func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range r.Header {
		switch k {
		case "Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
			continue
		}
		req.Header[k] = vs
	}
	p.mu.Lock()
	p.reached[r.URL.Path]++
	p.mu.Unlock()
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxUpstreamBody))
	if err != nil {
		return nil, nil, err
	}
	return resp, bytes.ReplaceAll(b, []byte(p.upstream), []byte(p.URL)), nil
}

func (p *Proxy) hold(w http.ResponseWriter, r *http.Request) {
	bound := p.HoldBound
	if bound <= 0 {
		bound = DefaultHoldBound
	}
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-p.done:
	case <-t.C:
		writeBody(w, http.StatusGatewayTimeout, "text/html; charset=utf-8", errorPage(http.StatusGatewayTimeout))
	}
}

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func errorPage(status int) []byte {
	return fmt.Appendf(nil, "<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>%s</center></body></html>",
		status, http.StatusText(status), status, http.StatusText(status), BodyMarker)
}

func oversizeJSON(issuer string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"issuer":%q,"access_token":"%s","padding":"`, issuer, BodyMarker)
	for b.Len() < OversizeBytes {
		b.WriteString(BodyMarker)
	}
	b.WriteString(`"}`)
	return b.Bytes()
}

// reset hijacks the connection and closes it with SO_LINGER 0, so the
// client reads ECONNRESET.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil { // not over HTTP/1: fail loudly instead
		http.Error(w, "faulttest: cannot reset: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// truncate writes the head and half the body of resp under the full
// Content-Length, then closes the connection.
func truncate(w http.ResponseWriter, resp *http.Response, body []byte) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "faulttest: cannot truncate: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	h := w.Header().Clone()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	if err := h.Write(buf); err != nil {
		return
	}
	buf.WriteString("\r\n")
	buf.Write(body[:len(body)/2])
	_ = buf.Flush()
}
