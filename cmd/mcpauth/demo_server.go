package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/mcpauth/mcpauth/internal/browser"
)

// demoProtocolVersion is the MCP version the demo's client speaks. With
// 2025-11-25 the server shows the login as it happens: a server-initiated
// elicitation/create in URL mode, then notifications/elicitation/complete,
// which the demo narrates. (2026-07-28 carries the same elicitation inside
// an input_required result that the client library answers by itself.)
const demoProtocolVersion = mcp.ProtocolVersion20251125

// exampleServerCommand is how the demo starts the example MCP server: this
// very binary with the hidden verb __example-server, so the demo runs from
// an installed mcpauth with no source checkout and no go command.
func exampleServerCommand() ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("locating this executable to run the example server (%w); or pass --server PATH to a built example server (go build -o PATH ./internal/testserver)", err)
	}
	return []string{exe, exampleServerVerb}, nil
}

// demoServerEnv is the example server's environment: the demo's, less the
// variables that would configure the server besides its flags (MCPAUTH_*)
// and a host's Client ID Metadata Document URL, which is for real issuers.
func demoServerEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "MCPAUTH_") || strings.HasPrefix(kv, "MCP_OAUTH_CLIENT_ID=")
	})
}

// serverLog keeps the last lines an example server wrote on stderr, and
// with -v shows each one.
type serverLog struct {
	mode string
	echo func(line string) // nil: keep only

	mu      sync.Mutex
	partial []byte
	lines   []string
}

// serverLogLines is how many lines a failure shows.
const serverLogLines = 30

func (l *serverLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.add(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > 64<<10 {
		l.add(string(l.partial))
		l.partial = nil
	}
	return len(p), nil
}

func (l *serverLog) add(line string) {
	l.lines = append(l.lines, line)
	if len(l.lines) > serverLogLines {
		l.lines = l.lines[len(l.lines)-serverLogLines:]
	}
	if l.echo != nil {
		l.echo(line)
	}
}

func (l *serverLog) tail() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.lines)
	if len(l.partial) > 0 {
		out = append(out, string(l.partial))
	}
	return out
}

// demoSession is the demo's MCP client connected to one example server.
type demoSession struct {
	d     *demo
	mode  string
	c     *client.Client
	calls int

	mu      sync.Mutex
	logins  int              // login elicitations received
	byID    map[string]int32 // elicitationId → the demo's login number
	pending string           // elicitationId of the login the countdown is for
}

// loginCount is how many logins the server asked this client to show.
func (s *demoSession) loginCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// connect starts the example server (command: its program and first
// arguments) in mode and initializes an MCP session with it.
func (d *demo) connect(ctx context.Context, command []string, mode string) (*demoSession, error) {
	n := d.n
	bin := command[0]
	args := append(slices.Clone(command[1:]), d.serverArgs(mode)...)
	log := &serverLog{mode: mode}
	if d.cfg.verbose {
		log.echo = func(line string) { n.say("server: %s", line) }
	}
	d.logs = append(d.logs, log)
	n.fields("command", shellQuote(append([]string{filepath.Base(bin)}, args...)))

	tr := transport.NewStdioWithOptions(bin, nil, args,
		transport.WithCommandFunc(func(ctx context.Context, command string, _ []string, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env = demoServerEnv()
			cmd.Stderr = log
			cmd.WaitDelay = 5 * time.Second
			return cmd, nil
		}))
	s := &demoSession{d: d, mode: mode, byID: map[string]int32{}}
	caps := mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{Form: &struct{}{}, URL: &struct{}{}}}
	s.c = client.NewClient(tr,
		client.WithClientCapabilities(caps),
		client.WithProtocolVersion(demoProtocolVersion),
		client.WithElicitationHandler(s))
	if err := s.c.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the example server: %w", err)
	}
	s.c.OnNotification(s.notification)
	init, err := s.c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: demoProtocolVersion,
		ClientInfo:      mcp.Implementation{Name: "mcpauth-demo", Version: currentVersion()},
		Capabilities:    caps,
	}})
	if err != nil {
		s.close()
		return nil, fmt.Errorf("initialize: %w", err)
	}
	n.fields(
		"server", fmt.Sprintf("%s %s over stdio, MCP %s", init.ServerInfo.Name, init.ServerInfo.Version, init.ProtocolVersion),
		"client", `this demo, with mcp-go; it declares elicitation {"form":{},"url":{}}, so the server may show it a link`,
	)
	return s, nil
}

// close ends the session; the example server exits when its stdin closes.
func (s *demoSession) close() {
	s.c.Close()
}

func (s *demoSession) listTools(ctx context.Context) ([]string, error) {
	res, err := s.c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return nil, fmt.Errorf("tools/list: %w", err)
	}
	var names []string
	for _, t := range res.Tools {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	s.d.n.say("→ tools/list: %s", strings.Join(names, ", "))
	return names, nil
}

// call calls a tool with a progress token (so the server reports how long
// a login has left) and returns its text; a result marked as an error is
// returned as an error.
func (s *demoSession) call(ctx context.Context, name string, args map[string]any) (string, error) {
	n := s.d.n
	s.calls++
	n.say("→ tools/call %s%s", name, formatArgs(args))
	var req mcp.CallToolRequest
	req.Params.Name = name
	req.Params.Arguments = args
	req.Params.Meta = &mcp.Meta{ProgressToken: fmt.Sprintf("demo-%s-%d", s.mode, s.calls)}
	res, err := s.c.CallTool(ctx, req)
	n.stopWaiting()
	if err != nil {
		return "", fmt.Errorf("tools/call %s: %w", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	text := b.String()
	if res.IsError {
		n.result(name+" failed", text)
		return "", fmt.Errorf("%s failed: %s", name, text)
	}
	n.result(name, text)
	return text, nil
}

// Elicit shows the login the server asks for. In URL mode "accept" means
// the user was shown the link, not that the login is done: the tool call
// goes on waiting until it is.
func (s *demoSession) Elicit(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	p := req.Params
	num := s.d.logins.Add(1)
	s.mu.Lock()
	s.logins++
	if p.ElicitationID != "" {
		s.byID[p.ElicitationID], s.pending = num, p.ElicitationID
	}
	s.mu.Unlock()
	n := s.d.n
	n.showLogin(num, p.Mode, p.Message, p.URL, s.d.cfg.qr)
	if p.Mode != mcp.ElicitationModeURL || !isWebURL(p.URL) {
		n.say("This demo shows login links only (URL mode); it declines.")
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
	}
	if s.d.cfg.open {
		if err := browser.Open(ctx, p.URL); err != nil {
			n.say("(could not open a browser: %v; open the link yourself)", err)
		}
	}
	n.say(`This client answers "accept" (URL mode: the user has been shown the link).`)
	n.startWaiting(s.d.cfg.autoApprove)
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept}}, nil
}

func (s *demoSession) notification(note mcp.JSONRPCNotification) {
	n := s.d.n
	fields := note.Params.AdditionalFields
	switch note.Method {
	case "notifications/progress":
		progress, _ := fields["progress"].(float64)
		total, _ := fields["total"].(float64)
		n.progress(progress, total)
	case "notifications/elicitation/complete":
		// It may trail the tool result it belongs to: name the login.
		id, _ := fields["elicitationId"].(string)
		s.mu.Lock()
		num, known := s.byID[id]
		current := id == s.pending
		if current {
			s.pending = ""
		}
		s.mu.Unlock()
		if current {
			n.stopWaiting()
		}
		if known {
			n.say("← notifications/elicitation/complete for login #%d: the server has its token", num)
		} else {
			n.say("← notifications/elicitation/complete for an elicitation this client was not shown (%q)", id)
		}
	case "notifications/tools/list_changed":
		n.say("← notifications/tools/list_changed: the server's tool list changed")
	}
}

func isWebURL(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

// formatArgs shows tool arguments as key=value, in a stable order.
func formatArgs(args map[string]any) string {
	if len(args) == 0 {
		return ""
	}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, args[k])
	}
	return " {" + strings.Join(parts, ", ") + "}"
}

// shellQuote joins a command line for display, quoting what a shell would
// split.
func shellQuote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$&;|<>*?()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
