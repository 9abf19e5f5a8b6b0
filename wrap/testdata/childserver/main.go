// Command childserver is the MCP server the wrap tests put behind the
// proxy: mcp-go over stdio, reading its "token" from the variable named by
// CHILD_TOKEN_VAR (default TEST_TOKEN), as a server that takes a personal
// access token from its environment does. It is a test fixture: whoami
// shows the token so the tests can see which one each run got.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

func main() {
	name := os.Getenv("CHILD_TOKEN_VAR")
	if name == "" {
		name = "TEST_TOKEN"
	}
	token, ok := os.LookupEnv(name)
	if !ok && os.Getenv("CHILD_REQUIRE_TOKEN") == "1" {
		fmt.Fprintf(os.Stderr, "childserver: %s is not set\n", name)
		os.Exit(1)
	}
	if os.Getenv("CHILD_NOISE") == "1" {
		// A server that prints to stdout before initialize.
		fmt.Println("childserver: starting up (this line is not JSON-RPC)")
	}
	var cancelled, rootsChanged, initialized, blocking atomic.Int64
	// CHILD_LOG names a file where each request's method is appended,
	// with this run's pid and whether it got the token or the placeholder.
	hooks := &server.Hooks{}
	if path := os.Getenv("CHILD_LOG"); path != "" {
		placeholder := strings.Contains(token, "placeholder")
		hooks.AddBeforeAny(func(ctx context.Context, id any, method mcp.MCPMethod, message any) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			if err != nil {
				return
			}
			defer f.Close()
			fmt.Fprintf(f, "%d placeholder=%v %s\n", os.Getpid(), placeholder, method)
		})
	}
	s := server.NewMCPServer("childserver", "1.2.3", server.WithToolCapabilities(true), server.WithResourceCapabilities(false, false), server.WithHooks(hooks))
	s.AddNotificationHandler("notifications/initialized", func(context.Context, mcp.JSONRPCNotification) { initialized.Add(1) })
	s.AddNotificationHandler("notifications/roots/list_changed", func(context.Context, mcp.JSONRPCNotification) { rootsChanged.Add(1) })
	text := func(s string) (*mcp.CallToolResult, error) { return mcp.NewToolResultText(s), nil }

	s.AddTool(mcp.NewTool("whoami"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return text(fmt.Sprintf("token=%s pid=%d", token, os.Getpid()))
	})
	s.AddTool(mcp.NewTool("exit"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		fmt.Fprintln(os.Stderr, "childserver: exiting mid-call as asked")
		os.Exit(3)
		return nil, nil
	})
	s.AddTool(mcp.NewTool("notify"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if err := s.SendNotificationToClient(ctx, "notifications/message", map[string]any{"level": "info", "data": "hello from childserver"}); err != nil {
			return text("notify failed: " + err.Error())
		}
		if pt := req.Params.Meta; pt != nil && pt.ProgressToken != nil {
			if err := s.SendNotificationToClient(ctx, "notifications/progress", map[string]any{"progressToken": pt.ProgressToken, "progress": 1, "total": 2}); err != nil {
				return text("progress failed: " + err.Error())
			}
		}
		return text("sent")
	})
	s.AddTool(mcp.NewTool("roots"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		r, err := s.RequestRoots(ctx, mcp.ListRootsRequest{})
		if err != nil {
			return text("roots failed: " + err.Error())
		}
		var uris []string
		for _, root := range r.Roots {
			uris = append(uris, root.URI)
		}
		return text("roots: " + strings.Join(uris, ","))
	})
	s.AddTool(mcp.NewTool("block"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		blocking.Add(1)
		select {
		case <-ctx.Done():
			cancelled.Add(1)
			return nil, ctx.Err()
		case <-time.After(2 * time.Minute):
			return text("not cancelled")
		}
	})
	s.AddTool(mcp.NewTool("slow", mcp.WithNumber("ms")), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		time.Sleep(time.Duration(req.GetFloat("ms", 100)) * time.Millisecond)
		return text(fmt.Sprintf("slept token=%s", token))
	})
	s.AddTool(mcp.NewTool("counts"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return text(fmt.Sprintf("blocking=%d cancelled=%d rootsChanged=%d initialized=%d", blocking.Load(), cancelled.Load(), rootsChanged.Load(), initialized.Load()))
	})
	if err := server.ServeStdio(s, server.WithWorkerPoolSize(16)); err != nil {
		fmt.Fprintln(os.Stderr, "childserver:", err)
		os.Exit(1)
	}
}
