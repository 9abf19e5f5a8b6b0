package gosdk_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/sdk"
	"github.com/mcpauth/mcpauth/sdk/gosdk"
)

// TestToolGoSDKRefusesIsASetupError: go-sdk panics on a tool without an
// input schema or with one that is not an object; Protect records a set-up
// error naming the tool instead, in explicit mode too (where the tool is
// added only after a login).
func TestToolGoSDKRefusesIsASetupError(t *testing.T) {
	for _, mode := range []sdk.Mode{sdk.Lazy, sdk.Explicit} {
		for name, schema := range map[string]any{"no_schema": nil, "array_schema": map[string]any{"type": "array"}} {
			t.Run(mode.String()+"/"+name, func(t *testing.T) {
				auth, err := sdk.New(context.Background(), sdk.Options{
					Mode: mode, ConfigFile: "/dev/null", Environ: []string{}, Logger: slog.New(slog.DiscardHandler),
					Providers: []config.Provider{{Name: "p", Issuer: "https://idp.example", ClientID: "c", Isolation: config.IsolationInProcess}},
				})
				if err != nil {
					t.Fatal(err)
				}
				defer auth.Close()
				s := mcp.NewServer(&mcp.Implementation{Name: "t"}, nil)
				gosdk.Protect(auth, s, &mcp.Tool{Name: name, InputSchema: schema},
					func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return nil, nil }, sdk.Need("p"))
				if err := auth.Err(); err == nil || !strings.Contains(err.Error(), name) {
					t.Fatalf("Err() = %v, want a set-up error naming %s", err, name)
				}
			})
		}
	}
}
