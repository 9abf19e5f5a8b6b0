package sdk

import (
	"bytes"
	"context"
	"encoding/json"
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
// stdin. It refuses to start while a set-up error is recorded (Err). It first claims fds 0 and 1 for the MCP transport (internal/stdio):
// afterwards os.Stdin reads /dev/null and os.Stdout writes to stderr, so no
// library print or child process can corrupt the JSON-RPC stream. opts are
// passed to mcp-go's stdio server after mcpauth's own (a larger worker pool).
func (a *Auth) ServeStdio(ctx context.Context, s *server.MCPServer, opts ...server.StdioOption) error {
	a.attach(s)
	if err := a.Err(); err != nil {
		a.Close()
		return err
	}
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

// elicitationCompletePrefix starts every notifications/elicitation/complete.
var elicitationCompletePrefix = []byte(`{"jsonrpc":"2.0","method":"notifications/elicitation/complete"`)

// outWriter is the MCP output stream. It serialises writes (mcp-go writes
// server-initiated requests without its own lock) and notes the
// notifications whose order against results mcpauth guarantees:
// tools/list_changed (counted, for waitListChanged) and
// elicitation/complete (by elicitationId, for waitElicitationComplete).
// mcp-go writes notifications from its own queue, so without this a
// notification queued before a result could reach the wire after it.
type outWriter struct {
	mu sync.Mutex
	w  io.Writer

	listChanged atomic.Uint64
	cmu         sync.Mutex
	changed     chan struct{}   // closed and replaced on every noted notification
	completed   map[string]bool // elicitationIds whose completion was written
}

func (o *outWriter) Write(p []byte) (int, error) {
	o.mu.Lock()
	n, err := o.w.Write(p)
	o.mu.Unlock()
	if err != nil {
		return n, err
	}
	switch {
	case bytes.HasPrefix(p, listChangedPrefix):
		o.listChanged.Add(1)
		o.notify("")
	case bytes.HasPrefix(p, elicitationCompletePrefix):
		var m struct {
			Params struct {
				ElicitationID string `json:"elicitationId"`
			} `json:"params"`
		}
		if json.Unmarshal(p, &m) == nil && m.Params.ElicitationID != "" {
			o.notify(m.Params.ElicitationID)
		}
	}
	return n, err
}

// notify records a completed elicitation (if id is set) and wakes waiters.
func (o *outWriter) notify(completedID string) {
	o.cmu.Lock()
	defer o.cmu.Unlock()
	if completedID != "" {
		if o.completed == nil {
			o.completed = map[string]bool{}
		}
		o.completed[completedID] = true
	}
	close(o.changed)
	o.changed = make(chan struct{})
}

// waitCompleted waits until the completion of every id has been written, at
// most bound.
func (o *outWriter) waitCompleted(ctx context.Context, ids []string, bound time.Duration) {
	o.waitUntil(ctx, bound, func() bool {
		for _, id := range ids {
			if !o.completed[id] {
				return false
			}
		}
		return true
	})
}

// waitUntil waits until done (called with cmu held) holds, at most bound:
// every noted notification wakes it to check again.
func (o *outWriter) waitUntil(ctx context.Context, bound time.Duration, done func() bool) {
	t := time.NewTimer(bound)
	defer t.Stop()
	for {
		o.cmu.Lock()
		ch, ok := o.changed, done()
		o.cmu.Unlock()
		if ok {
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

func (o *outWriter) listChangedCount() uint64 {
	if o == nil {
		return 0
	}
	return o.listChanged.Load()
}

// waitListChanged waits until target notifications have been written, at
// most bound.
func (o *outWriter) waitListChanged(ctx context.Context, target uint64, bound time.Duration) {
	o.waitUntil(ctx, bound, func() bool { return o.listChanged.Load() >= target })
}
