package wrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mcpauth/mcpauth/sdk"
)

// Defaults.
const (
	// DefaultStartTimeout bounds starting the wrapped server and its answer
	// to initialize: npx may download the package first.
	DefaultStartTimeout = 2 * time.Minute
	// DefaultDrainTimeout bounds how long a restart waits for the requests
	// in flight at the old run to be answered.
	DefaultDrainTimeout = time.Minute
	// shutdownWait bounds how long Serve waits for its handlers after the
	// host closed stdin.
	shutdownWait = 10 * time.Second
)

// Config configures a Proxy.
type Config struct {
	// Command is the wrapped server's program and arguments.
	Command []string
	// Env names the variable the wrapped server reads its token from,
	// e.g. GITLAB_PERSONAL_ACCESS_TOKEN.
	Env string
	// EnvFormat is the variable's value, with {token} standing for the
	// token: "Bearer {token}" for a server that wants the scheme too.
	// Default "{token}".
	EnvFormat string
	// Gate is the login core; required. It decides which tools are listed
	// (sdk.ToolList): the wrapped server's (ServerTools) from the start
	// in lazy mode, from a run with the Placeholder while there is no
	// token; in explicit mode only once logged in, and the server does
	// not run before.
	Gate Gate
	// Logger receives the proxy's logs; nil means a text logger on
	// stderr. No token is ever logged.
	Logger *slog.Logger
	// Stderr receives the wrapped server's stderr; nil means os.Stderr.
	Stderr io.Writer
	// Environ is the environment the wrapped server starts with (Env is
	// replaced in it); nil means os.Environ().
	Environ []string
	// StartTimeout bounds a start of the server up to its initialize
	// answer; default DefaultStartTimeout.
	StartTimeout time.Duration
	// DrainTimeout bounds the wait for requests in flight before a
	// restart; default DefaultDrainTimeout.
	DrainTimeout time.Duration
	// ServerName and ServerVersion are the serverInfo the proxy answers
	// initialize with when the wrapped server is not running yet (explicit
	// mode before a login).
	ServerName, ServerVersion string
}

// Proxy is a stdio JSON-RPC proxy between an MCP host and a wrapped MCP
// server that reads its token from its environment. Create it with New
// and run it with Serve, once.
type Proxy struct {
	cfg Config
	log *slog.Logger

	host *writer
	// life is held while the wrapped server is started, restarted or
	// stopped, so that those happen one at a time and no request reaches
	// a run that is draining.
	life sync.Mutex

	mu              sync.Mutex
	gen             int
	next            int64
	child           *child
	initParams      json.RawMessage // the host's initialize params, replayed at every start
	hostInitialized bool            // the host sent notifications/initialized
	client          sdk.Client
	listed          map[string]bool      // tools the gate listed (ServerTools, auth tools)
	modernHost      bool                 // the host speaks MCP 2026-07-28 (see modern.go)
	toolsListener   string               // its subscriptions/listen for tool list changes, by host ID
	modernReqs      map[string]string    // its requests being handled: method by host ID
	toChild         map[int64]*toChild   // requests sent to a run, by proxy ID
	toHost          map[int64]*toHost    // requests sent to the host, by proxy ID
	fromChildReq    map[childReq]int64   // a run's own request IDs → proxy IDs
	hostCalls       map[string]*hostCall // host requests being handled, by host ID
}

type toChild struct {
	c    *child
	resp chan *message // buffered 1
}

// toHost is a request the proxy sent to the host: its own (resp set) or
// one of a run's (c and childID set), whose answer goes back to that run.
type toHost struct {
	resp    chan *message
	c       *child
	childID json.RawMessage
}

type childReq struct {
	gen int
	id  string
}

type hostCall struct {
	cancel context.CancelCauseFunc
}

// errHostCancelled is the cause of a request's context the host cancelled.
var errHostCancelled = errors.New("wrap: the host cancelled the request")

// New checks cfg and returns a Proxy. The errors name the field.
func New(cfg Config) (*Proxy, error) {
	if len(cfg.Command) == 0 || cfg.Command[0] == "" {
		return nil, errors.New("wrap: no command to wrap")
	}
	if err := CheckEnvName(cfg.Env); err != nil {
		return nil, err
	}
	if cfg.EnvFormat == "" {
		cfg.EnvFormat = "{token}"
	}
	if err := CheckEnvFormat(cfg.EnvFormat); err != nil {
		return nil, err
	}
	if cfg.Gate == nil {
		return nil, errors.New("wrap: no Gate")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.Environ == nil {
		cfg.Environ = os.Environ()
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.ServerName == "" {
		cfg.ServerName = "mcpauth-wrap"
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = "0"
	}
	return &Proxy{
		cfg: cfg, log: cfg.Logger,
		toChild: map[int64]*toChild{}, toHost: map[int64]*toHost{},
		fromChildReq: map[childReq]int64{}, hostCalls: map[string]*hostCall{}, listed: map[string]bool{}, modernReqs: map[string]string{},
	}, nil
}

// CheckEnvName checks a variable name for Config.Env.
func CheckEnvName(name string) error {
	if name == "" {
		return errors.New("wrap: no variable name for the token")
	}
	if strings.ContainsAny(name, "=\x00") {
		return fmt.Errorf("wrap: variable name %q: contains = or NUL", name)
	}
	return nil
}

// CheckEnvFormat checks a Config.EnvFormat: it must hold {token} once.
func CheckEnvFormat(format string) error {
	if n := strings.Count(format, "{token}"); n != 1 {
		return fmt.Errorf("wrap: env format %q: want {token} exactly once, found it %d times", format, n)
	}
	if strings.ContainsRune(format, 0) {
		return fmt.Errorf("wrap: env format %q: contains NUL", format)
	}
	return nil
}

// Serve proxies between the host (in, out) and the wrapped server until
// the host closes in or ctx ends; it then stops the server. Every message
// written to out is one line of JSON-RPC.
func (p *Proxy) Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	p.host = &writer{w: out, fix: p.withResultType}
	if err := p.cfg.Gate.Bind(&toolList{p}); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type read struct {
		m    *message
		line []byte
		err  error
	}
	lines := make(chan read)
	go func() {
		r := newReader(in)
		for {
			m, line, err := r.next()
			select {
			case lines <- read{m, line, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	var serveErr error
loop:
	for {
		var rd read
		select {
		case <-ctx.Done():
			break loop
		case rd = <-lines:
		}
		switch {
		case rd.m != nil:
			p.fromHost(ctx, &wg, rd.m)
		case rd.line != nil:
			_ = p.host.write(&message{ID: json.RawMessage("null"), Error: mustJSON(rpcError{Code: -32700, Message: "mcpauth wrap: not a JSON-RPC message"})})
		}
		if rd.err != nil {
			if !errors.Is(rd.err, io.EOF) {
				serveErr = fmt.Errorf("wrap: reading from the host: %w", rd.err)
			}
			break loop
		}
	}
	cancel()
	p.waitHandlers(&wg)
	p.life.Lock()
	p.mu.Lock()
	c := p.child
	p.mu.Unlock()
	if c != nil && c.alive() {
		p.stop(c)
	}
	p.life.Unlock()
	return serveErr
}

func (p *Proxy) waitHandlers(wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(shutdownWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		p.log.Warn("wrap: requests still running after the host closed the connection", "bound", shutdownWait)
	}
}

// fromHost routes one message from the host. Requests other than
// initialize run in their own goroutine; notifications and responses are
// handled in order.
func (p *Proxy) fromHost(ctx context.Context, wg *sync.WaitGroup, m *message) {
	switch {
	case m.isRequest() && m.Method == "initialize":
		// Handled in order: nothing else may reach the wrapped server
		// before its handshake.
		p.initialize(ctx, m)
	case m.isRequest():
		key := idKey(m.ID)
		cctx, cancel := context.WithCancelCause(ctx)
		p.mu.Lock()
		p.hostCalls[key] = &hostCall{cancel: cancel}
		p.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				p.mu.Lock()
				delete(p.hostCalls, key)
				delete(p.modernReqs, key)
				p.mu.Unlock()
				cancel(nil)
			}()
			p.handle(cctx, m)
		}()
	case m.isNotification():
		p.hostNotification(m)
	case m.isResponse():
		p.hostResponse(m)
	default:
		_ = p.host.write(&message{ID: json.RawMessage("null"), Error: mustJSON(rpcError{Code: codeInvalidRequest, Message: "mcpauth wrap: neither a request, a notification nor a response"})})
	}
}

func (p *Proxy) handle(ctx context.Context, m *message) {
	modern := p.modern(m)
	switch m.Method {
	case "server/discover":
		p.discover(ctx, m)
	case "subscriptions/listen":
		p.listen(ctx, m)
	case "ping":
		_ = p.host.result(m.ID, struct{}{})
	case "tools/list":
		p.listTools(ctx, m)
	case "tools/call":
		p.callTool(ctx, m, modern)
	default:
		p.forwardOther(ctx, m)
	}
}

func (p *Proxy) hostNotification(m *message) {
	switch m.Method {
	case "notifications/initialized":
		p.mu.Lock()
		p.hostInitialized = true
		c := p.child
		p.mu.Unlock()
		if c != nil && c.alive() {
			_ = c.in.write(m)
		}
	case "notifications/cancelled":
		var params struct {
			RequestID json.RawMessage `json:"requestId"`
		}
		_ = json.Unmarshal(m.Params, &params)
		p.mu.Lock()
		hc := p.hostCalls[idKey(params.RequestID)]
		p.mu.Unlock()
		if hc != nil {
			// The handler tells the wrapped server, with the ID it knows.
			hc.cancel(errHostCancelled)
		}
	default:
		// roots/list_changed, progress of a request the server sent, ...:
		// for the run there is. A run started later asks afresh.
		p.mu.Lock()
		c := p.child
		p.mu.Unlock()
		if c != nil && c.alive() {
			_ = c.in.write(m)
		}
	}
}

// hostResponse routes the host's answer to a request the proxy sent it.
func (p *Proxy) hostResponse(m *message) {
	n, ok := parseProxyID(m.ID)
	p.mu.Lock()
	th := p.toHost[n]
	delete(p.toHost, n)
	if th != nil && th.c != nil {
		delete(p.fromChildReq, childReq{th.c.gen, idKey(th.childID)})
	}
	p.mu.Unlock()
	switch {
	case !ok || th == nil:
		p.log.Debug("wrap: an answer from the host to no request in flight; dropped")
	case th.resp != nil:
		th.resp <- m
	case th.c.alive():
		_ = th.c.in.write(&message{ID: th.childID, Result: m.Result, Error: m.Error})
	default:
		p.log.Info("wrap: the host answered a request of a run of the wrapped server that has exited; dropped", "run", th.c.gen)
	}
}

// current asks the gate for the token without logging in; "" if none.
func (p *Proxy) current(ctx context.Context) string {
	tok, err := p.cfg.Gate.Current(ctx)
	if err != nil {
		p.log.Warn("wrap: no usable token", "err", err)
		return ""
	}
	return tok
}

// ensure returns a run of the wrapped server started with token ("" means
// any run, else one with the Placeholder), starting or restarting it as
// needed, with one request counted in flight (release it). A restart
// waits for the requests in flight at the old run first.
func (p *Proxy) ensure(ctx context.Context, token string) (*child, error) {
	p.life.Lock()
	defer p.life.Unlock()
	p.mu.Lock()
	c := p.child
	if c != nil && c.alive() && (token == "" || c.token == token) {
		c.inflight++
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	if c != nil {
		if c.alive() {
			p.log.Info("wrap: restarting the wrapped server with a new token", "run", c.gen, "had", map[bool]string{true: "placeholder", false: "older token"}[c.placeholder])
			p.drain(c, p.cfg.DrainTimeout)
			p.stop(c)
		} else {
			p.log.Info("wrap: starting the wrapped server again after it exited", "run", c.gen, "status", c.exitStatus())
		}
	}
	nc, err := p.spawn(token)
	if err != nil {
		return nil, err
	}
	if err := p.handshake(ctx, nc, p.cfg.StartTimeout); err != nil {
		p.stop(nc)
		return nil, err
	}
	p.mu.Lock()
	p.child = nc
	nc.inflight++
	p.mu.Unlock()
	return nc, nil
}

// mustJSON encodes what the proxy builds itself: maps and structs of
// strings, numbers and json.RawMessage values that came out of a
// successful json.Unmarshal. Encoding them cannot fail; a failure is a bug
// in the proxy, not bad input, hence the panic.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("wrap: encode %T: %v", v, err))
	}
	return b
}
