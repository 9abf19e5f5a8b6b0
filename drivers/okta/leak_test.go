package okta_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

// A token reply that cannot be read names what failed and never quotes the
// body, which carries the tokens.
func TestNoSecretInTokenErrors(t *testing.T) {
	srv := logintest.NewReplyServer(t)
	d, err := okta.New(okta.Config{ClientID: "c", Metadata: &provider.AuthServerMetadata{
		Issuer: srv.URL, AuthorizationEndpoint: srv.URL + "/oauth2/v1/authorize", TokenEndpoint: srv.URL + "/oauth2/v1/token",
		DeviceAuthorizationEndpoint: srv.URL + "/oauth2/v1/device/authorize",
	}})
	if err != nil {
		t.Fatal(err)
	}
	logintest.NoSecretInErrors(t, d, srv)
}
