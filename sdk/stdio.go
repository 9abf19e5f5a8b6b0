package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpauth/mcpauth/internal/stdio"
)

// Stdio claims fds 0 and 1 for the MCP transport (internal/stdio) and
// returns them: afterwards os.Stdin reads /dev/null and os.Stdout writes to
// stderr, so no library print or child process can corrupt the JSON-RPC
// stream. It refuses while a set-up error is recorded (Err). An adapter
// serves its SDK's stdio transport on in and out; every message to the
// client must go through out, which orders the notifications mcpauth
// guarantees before the results that follow them.
func (a *Auth) Stdio() (in io.Reader, out io.Writer, err error) {
	if err := a.Err(); err != nil {
		return nil, nil, err
	}
	r, w, err := stdio.Claim()
	if err != nil {
		return nil, nil, err
	}
	ow := &outWriter{w: w, changed: make(chan struct{})}
	a.mu.Lock()
	a.out = ow
	a.mu.Unlock()
	return r, ow, nil
}

// Methods of the notifications whose order against results mcpauth
// guarantees, as they appear in a message (any SDK's field order).
var (
	listChangedMethod         = []byte(`"method":"notifications/tools/list_changed"`)
	elicitationCompleteMethod = []byte(`"method":"notifications/elicitation/complete"`)
)

// head is the part of a message its method is looked for in.
func head(p []byte) []byte { return p[:min(len(p), 96)] }

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
	switch h := head(p); {
	case bytes.Contains(h, listChangedMethod):
		o.listChanged.Add(1)
		o.notify("")
	case bytes.Contains(h, elicitationCompleteMethod):
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
