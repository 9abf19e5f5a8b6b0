package mcpauth

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpauth/mcpauth/internal/stdio"
)

// defaultWorkers is the number of tool calls ServeStdio runs at once
// (mcp-go's default is 5). Calls waiting for a login hold a worker; the
// retry that carries the user's answer must not queue behind them.
const defaultWorkers = 32

// ServeStdio serves s over stdio until ctx is done or the client closes
// stdin. It first claims fds 0 and 1 for the MCP transport (internal/stdio):
// afterwards os.Stdin reads /dev/null and os.Stdout writes to stderr, so no
// library print or child process can corrupt the JSON-RPC stream. opts are
// passed to mcp-go's stdio server after mcpauth's own (a larger worker pool).
func (a *Auth) ServeStdio(ctx context.Context, s *server.MCPServer, opts ...server.StdioOption) error {
	a.attach(s)
	in, out, err := stdio.Claim()
	if err != nil {
		return err
	}
	w := &outWriter{w: out, changed: make(chan struct{})}
	a.mu.Lock()
	a.out = w
	a.mu.Unlock()
	defer a.Close()

	ss := server.NewStdioServer(s)
	ss.SetErrorLogger(slog.NewLogLogger(a.logger.Handler(), slog.LevelError))
	for _, o := range append([]server.StdioOption{server.WithWorkerPoolSize(defaultWorkers)}, opts...) {
		o(ss)
	}
	return ss.Listen(ctx, in, w)
}

// listChangedPrefix starts every tools/list_changed notification mcp-go
// writes (it marshals jsonrpc, then method).
var listChangedPrefix = []byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"`)

// outWriter is the MCP output stream. It serialises writes (mcp-go writes
// server-initiated requests without its own lock) and counts the
// tools/list_changed notifications written, for waitListChanged.
type outWriter struct {
	mu sync.Mutex
	w  io.Writer

	listChanged atomic.Uint64
	cmu         sync.Mutex
	changed     chan struct{} // closed and replaced on every list_changed
}

func (o *outWriter) Write(p []byte) (int, error) {
	o.mu.Lock()
	n, err := o.w.Write(p)
	o.mu.Unlock()
	if err == nil && bytes.HasPrefix(p, listChangedPrefix) {
		o.listChanged.Add(1)
		o.cmu.Lock()
		close(o.changed)
		o.changed = make(chan struct{})
		o.cmu.Unlock()
	}
	return n, err
}

func (o *outWriter) listChangedCount() uint64 {
	if o == nil {
		return 0
	}
	return o.listChanged.Load()
}

// waitListChanged waits until target notifications have been written, at
// most bound.
func (o *outWriter) waitListChanged(ctx context.Context, target uint64, bound time.Duration) {
	t := time.NewTimer(bound)
	defer t.Stop()
	for {
		o.cmu.Lock()
		ch := o.changed
		o.cmu.Unlock()
		if o.listChanged.Load() >= target {
			return
		}
		select {
		case <-ch:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}
