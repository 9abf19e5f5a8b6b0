package gosdk_test

import (
	"context"
	"io"
	"log"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/sdk"
	"github.com/mcpauth/mcpauth/sdk/gosdk"
)

// The same server on the official go-sdk: the providers and the handler's
// use of sdk.HTTPClient are unchanged; only the adapter differs.
func ExampleProtect() {
	ctx := context.Background()
	auth, err := sdk.New(ctx, sdk.Options{
		ServerName: "my-server",
		Providers: []config.Provider{
			{Name: "github", Issuer: "https://github.com", ClientID: "Iv1.0123456789abcdef", Scopes: []string{"repo"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "my-server", Version: "1.0.0"}, nil)
	tool := &mcp.Tool{Name: "list_repos", InputSchema: map[string]any{"type": "object"}}
	gosdk.Protect(auth, s, tool, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		resp, err := sdk.HTTPClient(ctx, "github").Get("https://api.github.com/user/repos") // token injected, step-up on 403
		if err != nil {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: err.Error()}}, IsError: true}, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(body)}}}, nil
	}, sdk.Need("github", "repo"))
	err = gosdk.Run(ctx, auth, s) // claims stdin/stdout for JSON-RPC first, then serves
	if err != nil {
		log.Fatal(err)
	}
}
