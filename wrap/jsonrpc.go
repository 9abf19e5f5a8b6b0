package wrap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// maxMessage bounds one JSON-RPC message (one line on the stdio transport).
// Tool results carry file contents; 64 MiB leaves room for those while
// keeping a runaway peer from filling memory.
const maxMessage = 64 << 20

// JSON-RPC error codes the proxy answers with.
const (
	codeInvalidRequest = -32600
	codeMethodNotFound = -32601
	codeInternal       = -32603
	// codeNotLoggedIn answers a request the wrapped server cannot take
	// before a login (see placeholderSafe).
	codeNotLoggedIn = -32001
)

// message is one JSON-RPC 2.0 message. A request has Method and ID, a
// notification Method only, a response ID and Result or Error. IDs and
// params stay raw: the proxy forwards them byte for byte except for the
// IDs it remaps.
type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

func (m *message) isRequest() bool      { return m.Method != "" && len(m.ID) > 0 }
func (m *message) isNotification() bool { return m.Method != "" && len(m.ID) == 0 }
func (m *message) isResponse() bool     { return m.Method == "" && len(m.ID) > 0 }

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// proxyID is an ID the proxy assigns: every request it sends to the
// wrapped server, and every request it sends to the host (its own and
// those of the wrapped server), gets the next one. Host IDs and the
// wrapped server's IDs are mapped onto them, so they never collide, even
// across restarts of the wrapped server.
func proxyID(n int64) json.RawMessage { return json.RawMessage(strconv.FormatInt(n, 10)) }

// parseProxyID reads an ID the proxy assigned; ok is false for any other.
func parseProxyID(id json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(string(id), 10, 64)
	return n, err == nil
}

// idKey is a map key for a peer's raw ID ("1" and "\"1\"" differ).
func idKey(id json.RawMessage) string { return string(bytes.TrimSpace(id)) }

// reader reads newline-delimited JSON-RPC messages (the MCP stdio
// transport).
type reader struct{ r *bufio.Reader }

func newReader(r io.Reader) *reader { return &reader{bufio.NewReaderSize(r, 64<<10)} }

var errTooLong = fmt.Errorf("wrap: a message longer than %d bytes", maxMessage)

// next returns the next line that is not blank. A line that is not a JSON
// object comes back with a nil message and no error, so the caller can
// say so and go on.
func (r *reader) next() (*message, []byte, error) {
	for {
		line, err := r.readLine()
		if len(bytes.TrimSpace(line)) == 0 {
			if err != nil {
				return nil, nil, err
			}
			continue
		}
		var m message
		if json.Unmarshal(line, &m) != nil {
			return nil, line, nil
		}
		return &m, line, nil
	}
}

func (r *reader) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxMessage {
			return nil, errTooLong
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return buf, err
	}
}

// writer writes messages one per line; safe for concurrent use.
type writer struct {
	mu sync.Mutex
	w  io.Writer
	// fix, if set, may change a message before it is written.
	fix func(*message)
}

func (w *writer) write(m *message) error {
	m.JSONRPC = "2.0"
	if w.fix != nil {
		w.fix(m)
	}
	// Encoder, not Marshal: forwarded params keep their <, > and & as
	// they came. Encode ends the line with the newline the transport needs.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("wrap: encode: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.w.Write(b.Bytes())
	return err
}

func (w *writer) result(id json.RawMessage, result any) error {
	b, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("wrap: encode: %w", err)
	}
	return w.write(&message{ID: id, Result: b})
}

func (w *writer) error(id json.RawMessage, code int, msg string) error {
	b, _ := json.Marshal(rpcError{Code: code, Message: msg})
	return w.write(&message{ID: id, Error: b})
}

func (w *writer) notify(method string, params any) error {
	b, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("wrap: encode: %w", err)
	}
	return w.write(&message{Method: method, Params: b})
}
