package wrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Placeholder is the value the wrapped server's token variable holds while
// no login exists, in lazy mode, so that a server which refuses to start
// without the variable (server-gitlab exits when it is unset) still lists
// its tools. It is not a credential: mcpauth never sends it anywhere, and
// the proxy forwards only the requests of placeholderSafe to a server
// started with it, never a tools/call, so the server has no reason to send
// it either. It goes through --env-format like a token.
const Placeholder = "mcpauth-wrap-placeholder-not-a-token"

// placeholderSafe are the methods a wrapped server started with the
// Placeholder may receive: the handshake and listing its tools, which need
// no API. Any other request waits for a login (tools/call) or is refused
// (resources, prompts, completions: they may call the API).
var placeholderSafe = map[string]bool{
	"initialize": true,
	"ping":       true,
	"tools/list": true,
}

// child is one run of the wrapped server.
type child struct {
	gen         int
	cmd         *exec.Cmd
	in          *writer   // the server's stdin
	stdin       io.Closer // closing it asks the server to exit
	placeholder bool      // started with the Placeholder
	token       string    // the token it was started with; "" with the placeholder
	initResult  json.RawMessage

	done    chan struct{} // closed once its stdout ended and the process was reaped
	exitErr error         // the process's exit status; read after done

	// guarded by Proxy.mu
	inflight int           // requests forwarded and not answered
	drained  chan struct{} // set by drain; closed when inflight drops to 0
	stopping bool          // stopped on purpose: its exit is not an error
}

func (c *child) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// exitStatus describes how the server ended, for log lines and errors.
func (c *child) exitStatus() string {
	if c.exitErr == nil {
		return "exit status 0"
	}
	return c.exitErr.Error()
}

// childEnv is base without any setting of name, plus name=value.
func childEnv(base []string, name, value string) []string {
	out := make([]string, 0, len(base)+1)
	for _, kv := range base {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			continue
		}
		out = append(out, kv)
	}
	return append(out, name+"="+value)
}

// spawn starts the server with token in its variable (the Placeholder
// when token is ""). It does not talk to it yet.
func (p *Proxy) spawn(token string) (*child, error) {
	value := Placeholder
	if token != "" {
		value = token
	}
	value = strings.ReplaceAll(p.cfg.EnvFormat, "{token}", value)
	cmd := exec.Command(p.cfg.Command[0], p.cfg.Command[1:]...)
	// The token goes in the environment only: never argv (visible to
	// every user in ps), never a file.
	cmd.Env = childEnv(p.cfg.Environ, p.cfg.Env, value)
	cmd.Stderr = p.cfg.Stderr
	cmd.WaitDelay = stopGrace
	setProcessGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("wrap: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("wrap: %w", err)
	}
	if err := cmd.Start(); err != nil {
		// exec's error names the program and the reason, not the env.
		return nil, fmt.Errorf("wrap: start the wrapped server: %w", err)
	}
	p.mu.Lock()
	p.gen++
	c := &child{gen: p.gen, cmd: cmd, in: &writer{w: stdin}, stdin: stdin, placeholder: token == "", token: token, done: make(chan struct{})}
	p.mu.Unlock()
	p.log.Info("wrap: started the wrapped server", "run", c.gen, "pid", cmd.Process.Pid, "with", map[bool]string{true: "placeholder", false: "token"}[c.placeholder])
	go p.readChild(c, stdout)
	return c, nil
}

// stopGrace is how long a server has to exit after its stdin closes, and
// how long after a kill its output may still drain.
const stopGrace = 5 * time.Second

// stop ends c: closes its stdin (the stdio transport's shutdown), then
// kills its process group if it has not exited within stopGrace.
func (p *Proxy) stop(c *child) {
	p.mu.Lock()
	c.stopping = true
	p.mu.Unlock()
	c.stdin.Close()
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-c.done:
		return
	case <-t.C:
	}
	p.log.Warn("wrap: the wrapped server did not exit when its stdin closed; killing it", "run", c.gen)
	killProcessGroup(c.cmd)
	t.Reset(2 * stopGrace)
	select {
	case <-c.done:
	case <-t.C:
		p.log.Error("wrap: the wrapped server's output is still open after a kill", "run", c.gen)
	}
}

// drain waits until c has answered every request forwarded to it, at most
// bound. Callers hold p.life, so no new request reaches c meanwhile.
func (p *Proxy) drain(c *child, bound time.Duration) {
	p.mu.Lock()
	if c.inflight == 0 {
		p.mu.Unlock()
		return
	}
	c.drained = make(chan struct{})
	ch, n := c.drained, c.inflight
	p.mu.Unlock()
	p.log.Info("wrap: waiting for the wrapped server to answer the requests in flight before restarting it", "run", c.gen, "requests", n)
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case <-ch:
	case <-c.done:
	case <-t.C:
		p.log.Warn("wrap: requests still in flight after the drain bound; restarting anyway", "run", c.gen, "bound", bound)
	}
}

// release marks one request to c as answered.
func (p *Proxy) release(c *child) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c.inflight--
	if c.inflight == 0 && c.drained != nil {
		close(c.drained)
		c.drained = nil
	}
}

// readChild reads the server's stdout until it ends, then reaps the
// process and fails what was waiting for it.
func (p *Proxy) readChild(c *child, stdout io.Reader) {
	r := newReader(stdout)
	for {
		m, line, err := r.next()
		if m != nil {
			p.fromChild(c, m)
		} else if line != nil {
			// Not JSON-RPC: a server that prints to stdout. The line is
			// dropped (the host would choke on it) and not quoted: it may
			// hold anything.
			p.log.Warn("wrap: the wrapped server wrote a line to stdout that is not JSON-RPC; dropped", "run", c.gen, "bytes", len(line))
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.log.Warn("wrap: reading the wrapped server's stdout", "run", c.gen, "err", err)
			}
			break
		}
	}
	c.exitErr = c.cmd.Wait()
	p.mu.Lock()
	stopping := c.stopping
	p.mu.Unlock()
	close(c.done)
	if !stopping {
		p.log.Warn("wrap: the wrapped server exited; it will be restarted on the next request", "run", c.gen, "status", c.exitStatus())
	}
	p.forgetChild(c)
}

// handshake sends c the host's initialize and, if the host has said
// notifications/initialized, that too (MCP lifecycle), within bound.
func (p *Proxy) handshake(ctx context.Context, c *child, bound time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	p.mu.Lock()
	params, initialized := p.initParams, p.hostInitialized
	p.mu.Unlock()
	resp, err := p.ask(ctx, c, "initialize", params)
	if err != nil {
		return fmt.Errorf("wrap: the wrapped server did not answer initialize: %w", err)
	}
	if len(resp.Error) > 0 {
		var e rpcError
		_ = json.Unmarshal(resp.Error, &e)
		return fmt.Errorf("wrap: the wrapped server refused initialize: %d %s", e.Code, e.Message)
	}
	c.initResult = resp.Result
	if initialized {
		return c.in.write(&message{Method: "notifications/initialized"})
	}
	return nil
}

// lastToken is a token shared between goroutines.
type lastToken struct {
	mu  sync.Mutex
	tok string
}

func (l *lastToken) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tok
}

func (l *lastToken) set(tok string) {
	l.mu.Lock()
	l.tok = tok
	l.mu.Unlock()
}
