package wrap_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/wrap"
)

// childBin is testdata/childserver, built once by TestMain.
var childBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcpauth-wrap-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	childBin = filepath.Join(dir, "childserver")
	cmd := exec.Command("go", "build", "-o", childBin, "./testdata/childserver")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building testdata/childserver:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// msg is a JSON-RPC message as the raw host sees it.
type msg struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// rawHost plays the MCP host byte for byte, so a test chooses every ID and
// sees every line the proxy writes.
type rawHost struct {
	t      *testing.T
	w      io.Writer
	stderr *syncBuffer
	served chan error

	mu        sync.Mutex
	waiters   map[string]chan *msg
	requests  chan *msg // requests from the proxy (server-initiated)
	notes     []*msg    // notifications from the proxy, in order
	order     []string  // "resp:<id>" and "note:<method>", in arrival order
	noteAdded chan struct{}
	badLines  []string
}

// startProxy runs a Proxy in process between a rawHost and the child server.
func startProxy(t *testing.T, gate wrap.Gate, env ...string) *rawHost {
	t.Helper()
	return startProxyCmd(t, gate, []string{childBin}, "TEST_TOKEN", env...)
}

// startProxyCmd runs a Proxy wrapping command, whose token variable is envName.
func startProxyCmd(t *testing.T, gate wrap.Gate, command []string, envName string, env ...string) *rawHost {
	t.Helper()
	hostR, proxyW := io.Pipe()
	proxyR, hostW := io.Pipe()
	h := &rawHost{t: t, w: hostW, stderr: &syncBuffer{}, served: make(chan error, 1),
		waiters: map[string]chan *msg{}, requests: make(chan *msg, 16), noteAdded: make(chan struct{}, 1)}
	p, err := wrap.New(wrap.Config{
		Command: command,
		Env:     envName,
		Gate:    gate,
		Logger:  newLogger(h.stderr),
		Stderr:  h.stderr,
		Environ: append(os.Environ(), env...),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { h.served <- p.Serve(ctx, proxyR, proxyW); proxyW.Close() }()
	go h.read(hostR)
	t.Cleanup(func() {
		hostW.Close()
		select {
		case err := <-h.served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return after the host closed stdin")
		}
		cancel()
		if t.Failed() {
			t.Logf("proxy and child stderr:\n%s", h.stderr.String())
		}
		if len(h.badLines) > 0 {
			t.Errorf("the proxy wrote lines that are not JSON-RPC: %q", h.badLines)
		}
	})
	return h
}

func (h *rawHost) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m msg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m.JSONRPC != "2.0" {
			h.mu.Lock()
			h.badLines = append(h.badLines, sc.Text())
			h.mu.Unlock()
			continue
		}
		h.mu.Lock()
		switch {
		case m.Method != "" && len(m.ID) > 0:
			h.mu.Unlock()
			h.requests <- &m
			continue
		case m.Method != "":
			h.notes = append(h.notes, &m)
			h.order = append(h.order, "note:"+m.Method)
			select {
			case h.noteAdded <- struct{}{}:
			default:
			}
		default:
			h.order = append(h.order, "resp:"+string(m.ID))
			if ch := h.waiters[string(m.ID)]; ch != nil {
				ch <- &m
				delete(h.waiters, string(m.ID))
			} else {
				h.order = append(h.order, "unexpected:"+string(m.ID))
			}
		}
		h.mu.Unlock()
	}
}

func (h *rawHost) send(v any) {
	h.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.w.Write(append(b, '\n')); err != nil {
		h.t.Fatalf("write to the proxy: %v", err)
	}
}

// start sends a request with this raw ID and returns where its answer arrives.
func (h *rawHost) start(id, method string, params any) chan *msg {
	h.t.Helper()
	ch := make(chan *msg, 1)
	h.mu.Lock()
	h.waiters[id] = ch
	h.mu.Unlock()
	m := map[string]any{"jsonrpc": "2.0", "id": json.RawMessage(id), "method": method}
	if params != nil {
		m["params"] = params
	}
	h.send(m)
	return ch
}

// wait waits for an answer; the bound only ends a test that would hang.
func (h *rawHost) wait(ch chan *msg, what string) *msg {
	h.t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(60 * time.Second):
		h.t.Fatalf("no answer to %s", what)
		return nil
	}
}

func (h *rawHost) call(id, method string, params any) *msg {
	h.t.Helper()
	return h.wait(h.start(id, method, params), method+" "+id)
}

func (h *rawHost) notify(method string, params any) {
	h.t.Helper()
	m := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		m["params"] = params
	}
	h.send(m)
}

// request waits for the next server-initiated request.
func (h *rawHost) request(method string) *msg {
	h.t.Helper()
	select {
	case m := <-h.requests:
		if m.Method != method {
			h.t.Fatalf("got request %s %s, want %s", m.Method, m.Params, method)
		}
		return m
	case <-time.After(60 * time.Second):
		h.t.Fatalf("no %s request from the proxy", method)
		return nil
	}
}

func (h *rawHost) reply(id json.RawMessage, result any) {
	h.t.Helper()
	h.send(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
}

// waitNote waits for a notification with this method and returns it.
func (h *rawHost) waitNote(method string) *msg {
	h.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		h.mu.Lock()
		for _, n := range h.notes {
			if n.Method == method {
				h.mu.Unlock()
				return n
			}
		}
		h.mu.Unlock()
		select {
		case <-h.noteAdded:
		case <-deadline:
			h.t.Fatalf("no %s notification", method)
			return nil
		}
	}
}

func (h *rawHost) arrivals() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.order...)
}

var initParams = map[string]any{
	"protocolVersion": "2025-11-25",
	"capabilities":    map[string]any{"roots": map[string]any{"listChanged": true}, "elicitation": map[string]any{"form": map[string]any{}, "url": map[string]any{}}},
	"clientInfo":      map[string]any{"name": "rawhost", "version": "1"},
}

// initialize runs the MCP handshake and returns the initialize result.
func (h *rawHost) initialize() map[string]any {
	h.t.Helper()
	r := h.call(`"init"`, "initialize", initParams)
	if r.Error != nil {
		h.t.Fatalf("initialize: %d %s", r.Error.Code, r.Error.Message)
	}
	h.notify("notifications/initialized", nil)
	var res map[string]any
	_ = json.Unmarshal(r.Result, &res)
	return res
}

// text is a tool result's text, "ERROR <code>: <message>" for a JSON-RPC
// error and "ISERROR: <text>" for a result with isError.
func text(m *msg) string {
	if m.Error != nil {
		return fmt.Sprintf("ERROR %d: %s", m.Error.Code, m.Error.Message)
	}
	var r struct {
		Content []struct{ Text string } `json:"content"`
		IsError bool                    `json:"isError"`
	}
	_ = json.Unmarshal(m.Result, &r)
	var b strings.Builder
	for _, c := range r.Content {
		b.WriteString(c.Text)
	}
	if r.IsError {
		return "ISERROR: " + b.String()
	}
	return b.String()
}

func toolNames(t *testing.T, m *msg) []string {
	t.Helper()
	var r struct {
		Tools []struct{ Name string } `json:"tools"`
	}
	if err := json.Unmarshal(m.Result, &r); err != nil {
		t.Fatalf("tools/list result %s: %v", m.Result, err)
	}
	var names []string
	for _, tool := range r.Tools {
		names = append(names, tool.Name)
	}
	return names
}

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
