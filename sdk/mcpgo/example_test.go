package mcpgo_test

import (
	"context"
	"io"
	"log"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/sdk"
	"github.com/mcpauth/mcpauth/sdk/mcpgo"
)

// A server author declares the providers its tools need, with defaults
// (here GitHub with the app's client ID); the user's config file and
// MCPAUTH_* variables may override any field. Protected tools get the token
// through sdk.HTTPClient, which sends it only to the provider's APIs and
// steps up scopes when an API asks for more.
func ExampleProtect() {
	ctx := context.Background()
	auth, err := sdk.New(ctx, sdk.Options{
		ServerName: "my-server",
		ConfigFile: "", // a --config flag's value; "" searches $MCPAUTH_CONFIG, then the user config directory
		Providers: []config.Provider{
			{Name: "github", Issuer: "https://github.com", ClientID: "Iv1.0123456789abcdef", Scopes: []string{"repo"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	s := server.NewMCPServer("my-server", "1.0.0", server.WithToolCapabilities(true))
	mcpgo.Protect(auth, s, mcp.NewTool("list_repos"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		resp, err := sdk.HTTPClient(ctx, "github").Get("https://api.github.com/user/repos") // token injected, step-up on 403
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return mcp.NewToolResultText(string(body)), nil
	}, sdk.Need("github", "repo"))
	err = mcpgo.ServeStdio(ctx, auth, s) // claims stdin/stdout for JSON-RPC first, then serves
	if err != nil {
		log.Fatal(err)
	}
}
