package gosdk_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/sdk"
	"github.com/mcpauth/mcpauth/sdk/gosdk"
)

// benchServer connects a go-sdk client in memory to a server whose ping
// tool is plain (bare) or added through Protect (needing no token, so the
// figure is the adapter's and the core's own work per call).
func benchServer(b *testing.B, protect bool, version string) *mcp.ClientSession {
	s := mcp.NewServer(&mcp.Implementation{Name: "t"}, nil)
	h := func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "pong"}}}, nil
	}
	tool := &mcp.Tool{Name: "ping", InputSchema: map[string]any{"type": "object"}}
	if protect {
		auth, err := sdk.New(context.Background(), sdk.Options{ConfigFile: "/dev/null", Environ: []string{}, Logger: slog.New(slog.DiscardHandler),
			Providers: []config.Provider{{Name: "p", Issuer: "https://idp.example", ClientID: "c", Isolation: config.IsolationInProcess}}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(auth.Close)
		gosdk.Protect(auth, s, tool, h)
	} else {
		s.AddTool(tool, h)
	}
	ct, st := mcp.NewInMemoryTransports()
	ctx := context.Background()
	if _, err := s.Connect(ctx, st, nil); err != nil {
		b.Fatal(err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "c"}, nil)
	cs, err := c.Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cs.Close() })
	return cs
}

// BenchmarkCall: a tools/call through the adapter vs the bare go-sdk
// server, in memory, at both protocol versions. It found the
// adapter decoding the request's _meta capabilities on every call (+32 KB
// and 16 allocations); the core now asks for them only to show a login.
func BenchmarkCall(b *testing.B) {
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		for _, protect := range []bool{false, true} {
			name := version + "/" + map[bool]string{false: "bare", true: "protected"}[protect]
			b.Run(name, func(b *testing.B) {
				cs := benchServer(b, protect, version)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "ping"}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
