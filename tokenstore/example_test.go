package tokenstore_test

import (
	"context"
	"log"

	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
	"github.com/mcpauth/mcpauth/tokenstore/keychain"
)

// A Store that keeps logins in the OS keychain, shared by every process of
// the user: a second process waits for the first one's login, then uses it.
func Example_persistent() {
	ctx := context.Background()
	kc, err := keychain.New(keychain.Config{})
	if err != nil {
		log.Fatal(err)
	}
	store := &tokenstore.Store{Backend: kc}
	client := tokenstore.Key{Provider: "github", Issuer: "https://github.com", ClientID: "Iv1.example"}

	unlock, err := store.LockLogin(ctx, client)
	if err != nil {
		log.Fatal(err)
	}
	defer unlock()
	if acct, err := store.Lookup(ctx, client); err == nil {
		tok, err := store.Token(ctx, acct.Key, nil)
		log.Println("logged in as", acct.DisplayName, tok, err)
		return
	}
	key := client
	key.Subject = "12345"                    // from the login's identity
	tok := &provider.Token{AccessToken: "…"} // from the login
	if err := store.Save(ctx, key, tok, "octocat"); err != nil {
		log.Println("logged in, but not persisted:", err)
	}
}
