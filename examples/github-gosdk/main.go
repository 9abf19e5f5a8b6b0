// Command github-gosdk is examples/github on the official Go MCP SDK: a
// stdio MCP server with one tool that lists the user's GitHub repositories,
// logging in at run time instead of reading a personal access token.
package main

import (
	"context"
	"flag"
	"io"
	"log"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/sdk"
	"github.com/mcpauth/mcpauth/sdk/gosdk"
)

func main() {
	configFile := flag.String("config", "", "mcpauth config file (default: $MCPAUTH_CONFIG, then the user config directory)")
	api := flag.String("api", "https://api.github.com", "GitHub's API (GitHub Enterprise: https://HOST/api/v3, with the provider's issuer and apis set to match)")
	flag.Parse()
	ctx := context.Background()
	auth, err := sdk.New(ctx, sdk.Options{
		ServerName: "github-example",
		ConfigFile: *configFile,
		Providers:  []config.Provider{{Name: "github", Issuer: "https://github.com", ClientID: "Iv1.0123456789abcdef", Scopes: []string{"repo"}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "github-example", Version: "1.0.0"}, nil)
	tool := &mcp.Tool{Name: "list_repos", Description: "Lists your repositories.", InputSchema: map[string]any{"type": "object"}}
	gosdk.Protect(auth, s, tool, func(ctx context.Context, _ *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		resp, err := sdk.HTTPClient(ctx, "github").Get(*api + "/user/repos?per_page=10")
		if err != nil {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: err.Error()}}, IsError: true}, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: resp.Status + "\n" + string(body)}}}, nil
	}, sdk.Need("github", "repo"))
	if err := gosdk.Run(ctx, auth, s); err != nil {
		log.Fatal(err)
	}
}
