package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

const protocolVersion = "2025-11-25"

// serverProc is a server subprocess with a connected mcp-go client.
type serverProc struct {
	c   *client.Client
	cmd *exec.Cmd
}

// onElicit answers a server's URL-mode elicitation (message, url) with an
// action; nil declares no elicitation.
type onElicit func(message, url string) string

type elicitFunc func(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error)

func (f elicitFunc) Elicit(ctx context.Context, r mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return f(ctx, r)
}

// startServer starts bin with args and env (added to a clean environment)
// and connects, without initializing.
func startServer(ctx context.Context, bin string, args, env []string, elicit onElicit) (*serverProc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stderr = serverLog // nil (discarded) unless -server-log
	tr := transport.NewStdioWithOptions(bin, nil, args,
		transport.WithCommandFunc(func(context.Context, string, []string, []string) (*exec.Cmd, error) { return cmd, nil }))
	var opts []client.ClientOption
	caps := mcp.ClientCapabilities{}
	if elicit != nil {
		caps.Elicitation = &mcp.ElicitationCapability{Form: &struct{}{}, URL: &struct{}{}}
		opts = append(opts, client.WithElicitationHandler(elicitFunc(func(_ context.Context, r mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
			action := elicit(r.Params.Message, r.Params.URL)
			return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseAction(action)}}, nil
		})))
	}
	opts = append(opts, client.WithClientCapabilities(caps), client.WithProtocolVersion(protocolVersion))
	c := client.NewClient(tr, opts...)
	if err := c.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	return &serverProc{c: c, cmd: cmd}, nil
}

// initialize sends initialize and a first tools/list.
func (s *serverProc) initialize(ctx context.Context, elicit bool) error {
	caps := mcp.ClientCapabilities{}
	if elicit {
		caps.Elicitation = &mcp.ElicitationCapability{Form: &struct{}{}, URL: &struct{}{}}
	}
	if _, err := s.c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: protocolVersion, ClientInfo: mcp.Implementation{Name: "mcpauth-bench", Version: "1"}, Capabilities: caps,
	}}); err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if _, err := s.c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	return nil
}

// call calls tool and returns its text; a tool error is an error.
func (s *serverProc) call(ctx context.Context, tool string) (string, error) {
	var req mcp.CallToolRequest
	req.Params.Name = tool
	res, err := s.c.CallTool(ctx, req)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if res.IsError {
		return "", fmt.Errorf("%s: tool error: %s", tool, b.String())
	}
	return b.String(), nil
}

// ping calls ping and checks the answer.
func (s *serverProc) ping(ctx context.Context) (time.Duration, error) {
	t0 := time.Now()
	text, err := s.call(ctx, "ping")
	d := time.Since(t0)
	if err == nil && text != "pong" {
		err = fmt.Errorf("ping answered %q", text)
	}
	return d, err
}

// rssMiB is the server's resident set (VmRSS) and its anonymous part
// (RssAnon: heap, stacks; the rest is the binary's pages) in MiB.
func (s *serverProc) rssMiB() (rss, anon float64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	found := 0
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if k != "VmRSS" && k != "RssAnon" {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmRSS" {
			rss = kb / 1024
		} else {
			anon = kb / 1024
		}
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("no VmRSS or RssAnon in /proc/%d/status", s.cmd.Process.Pid)
	}
	return rss, anon, nil
}

func (s *serverProc) close() {
	s.c.Close()
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// cleanEnv is this process's environment without what would change a
// server's grant selection or reach the user's own stores: no desktop
// session, SSH or D-Bus variables, no MCPAUTH_ settings.
func cleanEnv() []string {
	drop := []string{"DISPLAY=", "WAYLAND_DISPLAY=", "SSH_", "MCP_OAUTH_CLIENT_ID=", "DBUS_", "MCPAUTH_", "XDG_"}
	var out []string
outer:
	for _, kv := range os.Environ() {
		for _, d := range drop {
			if strings.HasPrefix(kv, d) {
				continue outer
			}
		}
		out = append(out, kv)
	}
	return append(out, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/mcpauth-bench-no-bus")
}

// userCodeRE finds a zitadel user code (XXXX-XXXX) in a login prompt.
var userCodeRE = regexp.MustCompile(`\b[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}\b`)
