package oidc_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

// A token reply that cannot be read names what failed and never quotes the
// body, which carries the tokens.
func TestNoSecretInTokenErrors(t *testing.T) {
	srv := logintest.NewReplyServer(t)
	for _, secret := range []string{"", "client-secret"} {
		d, err := oidc.New(oidc.Config{ClientID: "c", ClientSecret: secret, Metadata: &provider.AuthServerMetadata{
			Issuer: srv.URL, AuthorizationEndpoint: srv.URL + "/authorize", TokenEndpoint: srv.URL + "/token",
			DeviceAuthorizationEndpoint: srv.URL + "/device",
		}})
		if err != nil {
			t.Fatal(err)
		}
		logintest.NoSecretInErrors(t, d, srv)
	}
}
