package sdk_test

import (
	"context"
	"log"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/sdk"
)

// A server author declares the providers its tools need, with defaults
// (here GitHub with the app's client ID); the user's config file and
// MCPAUTH_* variables may override any field. The tools are then protected
// through the adapter of the server's MCP SDK: sdk/mcpgo or sdk/gosdk (see
// their examples).
func ExampleNew() {
	auth, err := sdk.New(context.Background(), sdk.Options{
		ServerName: "my-server",
		Providers: []config.Provider{
			{Name: "github", Issuer: "https://github.com", ClientID: "Iv1.0123456789abcdef", Scopes: []string{"repo"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()
}

// Token gives the access token itself to client libraries that want a
// string; prefer HTTPClient, which also keeps the token to the provider's
// APIs. ctx is the context a protected tool's handler receives.
func ExampleToken() {
	handler := func(ctx context.Context) error {
		tok, err := sdk.Token(ctx, "github")
		if err != nil {
			return err
		}
		_ = tok.AccessToken // pass to a client library; never into a tool result or a log
		return nil
	}
	_ = handler
}
