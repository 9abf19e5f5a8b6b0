package slack_test

import (
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/slack"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

// A reply that cannot be read names what failed and never quotes the body,
// which carries the tokens.
func TestNoSecretInTokenErrors(t *testing.T) {
	srv := logintest.NewReplyServer(t)
	d, err := slack.New(slack.Config{BaseURL: srv.URL, ClientID: "1.2", Scopes: []string{"chat:write"}})
	if err != nil {
		t.Fatal(err)
	}
	logintest.NoSecretInErrors(t, d, srv)
	for _, rep := range logintest.UnparseableTokenReplies {
		srv.Set(rep)
		if _, err := d.Identity(logintest.Context(t), &provider.Token{AccessToken: "at"}); err == nil || strings.Contains(err.Error(), logintest.Secret) {
			t.Errorf("%s: Identity err = %v", rep.Name, err)
		}
	}
}
