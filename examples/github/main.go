// Command github is a stdio MCP server (mcp-go) with one tool that lists the
// user's GitHub repositories. It logs in at run time instead of reading a
// personal access token: the user's config file or MCPAUTH_PROVIDERS_GITHUB_*
// variables may override the defaults below (say, their own client_id).
package main

import (
	"context"
	"flag"
	"io"
	"log"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/sdk"
	"github.com/mcpauth/mcpauth/sdk/mcpgo"
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
	s := server.NewMCPServer("github-example", "1.0.0", server.WithToolCapabilities(true))
	mcpgo.Protect(auth, s, mcp.NewTool("list_repos", mcp.WithDescription("Lists your repositories.")),
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			resp, err := sdk.HTTPClient(ctx, "github").Get(*api + "/user/repos?per_page=10")
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			return mcp.NewToolResultText(resp.Status + "\n" + string(body)), nil
		}, sdk.Need("github", "repo"))
	if err := mcpgo.ServeStdio(ctx, auth, s); err != nil {
		log.Fatal(err)
	}
}
