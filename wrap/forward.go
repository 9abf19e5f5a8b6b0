package wrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// errChildExited: the run a request went to exited before answering.
var errChildExited = errors.New("the wrapped server exited before answering")

// ask sends c a request with a fresh proxy ID and waits for the answer, for
// c's exit or for ctx. A request ctx ends is cancelled at c
// (notifications/cancelled), as the host asked or the bound says.
func (p *Proxy) ask(ctx context.Context, c *child, method string, params json.RawMessage) (*message, error) {
	p.mu.Lock()
	p.next++
	n := p.next
	tc := &toChild{c: c, resp: make(chan *message, 1)}
	p.toChild[n] = tc
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.toChild, n)
		p.mu.Unlock()
	}()
	if err := c.in.write(&message{ID: proxyID(n), Method: method, Params: params}); err != nil {
		return nil, fmt.Errorf("%w (%s)", errChildExited, c.exitStatusOrRunning())
	}
	select {
	case m := <-tc.resp:
		return m, nil
	case <-c.done:
		// An answer written just before the exit was delivered first.
		select {
		case m := <-tc.resp:
			return m, nil
		default:
		}
		return nil, fmt.Errorf("%w (%s)", errChildExited, c.exitStatus())
	case <-ctx.Done():
		reason := "mcpauth wrap: " + context.Cause(ctx).Error()
		_ = c.in.write(&message{Method: "notifications/cancelled", Params: mustJSON(map[string]any{"requestId": n, "reason": reason})})
		return nil, context.Cause(ctx)
	}
}

func (c *child) exitStatusOrRunning() string {
	if c.alive() {
		return "its stdin is closed"
	}
	return c.exitStatus()
}

// forward sends the host's request m to c and answers the host with c's
// answer under the host's ID. A request the host cancelled gets no answer.
func (p *Proxy) forward(ctx context.Context, c *child, m *message) {
	resp, err := p.ask(ctx, c, m.Method, m.Params)
	p.release(c)
	p.answer(ctx, m, resp, err)
}

// answer writes resp to the host under m's ID, or the error that kept c
// from answering.
func (p *Proxy) answer(ctx context.Context, m *message, resp *message, err error) {
	switch {
	case errors.Is(err, errChildExited):
		_ = p.host.error(m.ID, codeInternal, "mcpauth wrap: "+err.Error()+"; it will be restarted on the next request")
	case err != nil && ctx.Err() != nil && errors.Is(context.Cause(ctx), errHostCancelled):
		// Cancelled by the host: no answer (MCP cancellation).
	case err != nil:
		_ = p.host.error(m.ID, codeInternal, "mcpauth wrap: "+err.Error())
	default:
		_ = p.host.write(&message{ID: m.ID, Result: resp.Result, Error: resp.Error})
	}
}

// forwardOther forwards a request the proxy does not look into (resources,
// prompts, completion, logging, ...) to a run with the current token. Without
// a token only placeholderSafe methods reach a server (lazy mode).
func (p *Proxy) forwardOther(ctx context.Context, m *message) {
	token := p.current(ctx)
	if token == "" && (!p.serverToolsListed() || !placeholderSafe[m.Method]) {
		_ = p.host.error(m.ID, codeNotLoggedIn, fmt.Sprintf("mcpauth wrap: %s reaches the wrapped server only after a login; call one of its tools to log in", m.Method))
		return
	}
	c, err := p.ensure(ctx, token)
	if err != nil {
		_ = p.host.error(m.ID, codeInternal, "mcpauth wrap: "+err.Error())
		return
	}
	p.forward(ctx, c, m)
}

// fromChild routes one message from run c.
func (p *Proxy) fromChild(c *child, m *message) {
	switch {
	case m.isResponse():
		n, ok := parseProxyID(m.ID)
		p.mu.Lock()
		tc := p.toChild[n]
		p.mu.Unlock()
		if !ok || tc == nil || tc.c != c {
			p.log.Debug("wrap: an answer from the wrapped server to no request in flight; dropped", "run", c.gen)
			return
		}
		select {
		case tc.resp <- m:
		default:
		}
	case m.isRequest():
		// A server-initiated request (sampling, elicitation, roots/list,
		// ping): to the host under a proxy ID; the answer goes back to
		// this run under its own ID.
		p.mu.Lock()
		if p.modernHost {
			p.mu.Unlock()
			_ = c.in.write(&message{ID: m.ID, Error: mustJSON(rpcError{Code: codeMethodNotFound,
				Message: "mcpauth wrap: the host speaks MCP " + modernVersion + ", which has no requests from server to client"})})
			return
		}
		p.next++
		n := p.next
		p.toHost[n] = &toHost{c: c, childID: m.ID}
		p.fromChildReq[childReq{c.gen, idKey(m.ID)}] = n
		p.mu.Unlock()
		_ = p.host.write(&message{ID: proxyID(n), Method: m.Method, Params: m.Params})
	case m.isNotification() && m.Method == "notifications/cancelled":
		// The server cancels a request it sent: name it by the ID the
		// host knows.
		var params map[string]json.RawMessage
		if json.Unmarshal(m.Params, &params) != nil {
			return
		}
		p.mu.Lock()
		n, ok := p.fromChildReq[childReq{c.gen, idKey(params["requestId"])}]
		p.mu.Unlock()
		if !ok {
			return
		}
		params["requestId"] = proxyID(n)
		_ = p.host.write(&message{Method: m.Method, Params: mustJSON(params)})
	case m.isNotification():
		if m.Method == "notifications/tools/list_changed" && (!p.serverToolsListed() || !p.listChangedWanted()) {
			return
		}
		_ = p.host.write(m)
	default:
		p.log.Warn("wrap: the wrapped server sent a message that is neither a request, a notification nor a response; dropped", "run", c.gen)
	}
}

// forgetChild drops the host requests of run c, which has exited: the host
// is told they are cancelled, and their answers will find nobody.
func (p *Proxy) forgetChild(c *child) {
	p.mu.Lock()
	var cancelled []int64
	for n, th := range p.toHost {
		if th.c == c {
			cancelled = append(cancelled, n)
			delete(p.toHost, n)
			delete(p.fromChildReq, childReq{c.gen, idKey(th.childID)})
		}
	}
	p.mu.Unlock()
	for _, n := range cancelled {
		_ = p.host.notify("notifications/cancelled", map[string]any{"requestId": n, "reason": "mcpauth wrap: the wrapped server that sent this request exited"})
	}
}
