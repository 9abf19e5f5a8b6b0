package github_test

import (
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/github"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

// A reply that cannot be read names what failed and never quotes the body,
// which carries the tokens: the token calls, and the device code request.
func TestNoSecretInTokenErrors(t *testing.T) {
	srv := logintest.NewReplyServer(t)
	d, err := github.New(github.Config{BaseURL: srv.URL, ClientID: "Iv1.c", ClientSecret: "s", APIURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	logintest.NoSecretInErrors(t, d, srv)
	for _, rep := range logintest.UnparseableTokenReplies {
		srv.Set(rep)
		if _, err := d.StartDevice(logintest.Context(t), nil); err == nil || strings.Contains(err.Error(), logintest.Secret) {
			t.Errorf("%s: StartDevice err = %v", rep.Name, err)
		}
		if _, err := d.Identity(logintest.Context(t), &provider.Token{AccessToken: "at"}); err == nil || strings.Contains(err.Error(), logintest.Secret) {
			t.Errorf("%s: Identity err = %v", rep.Name, err)
		}
	}
}
