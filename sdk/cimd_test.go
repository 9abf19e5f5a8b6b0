package sdk

import (
	"errors"
	"strconv"
	"testing"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/provider"
)

// configRefuses reports whether the config file refuses raw as field of a
// provider entry, and fails the test on any other problem.
func configRefuses(t *testing.T, field, raw string) bool {
	t.Helper()
	issuer, doc := "https://as.example.com", "https://app.example.com/client.json"
	switch field {
	case "issuer":
		issuer = raw
	case "client_id_metadata_document":
		doc = raw
	}
	yaml := "providers:\n  - name: p\n    issuer: " + strconv.Quote(issuer) +
		"\n    client_id_metadata_document: " + strconv.Quote(doc) + "\n"
	_, err := config.ParseEnv("c.yaml", []byte(yaml), nil)
	if err == nil {
		return false
	}
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("config.ParseEnv: %v is not a *config.ValidationError", err)
	}
	for _, p := range ve.Problems {
		if p.Field != "providers[0]."+field {
			t.Fatalf("config.ParseEnv: unexpected problem %v", p)
		}
	}
	return true
}

// TestURLRulesAgree: the config file, the SDK and provider accept and
// refuse the same URLs, so a config that loads is never refused at run
// time (it was: config accepted a CIMD URL with ".." that the SDK refused).
func TestURLRulesAgree(t *testing.T) {
	docs := []string{
		"https://app.example.com/oauth/client.json",
		"https://app.example.com/oauth/client.json?v=1",
		"https://app.example.com/a/../client.json",
		"https://app.example.com/a/./client.json",
		"https://app.example.com/%2e%2e/client.json",
		"https://app.example.com/..",
		"https://app.example.com",
		"https://app.example.com/",
		"https://app.example.com/a#frag",
		"https://app.example.com/a#",
		"https://user:pw@app.example.com/client.json",
		"http://app.example.com/client.json",
		"http://127.0.0.1/client.json",
		"app.example.com/client.json",
		"https:opaque/client.json",
		"https://app.example.com/%zz",
	}
	for _, u := range docs {
		t.Run("cimd "+u, func(t *testing.T) {
			p := provider.CheckClientIDMetadataDocumentURL(u) == nil
			s := CheckClientIDMetadataDocumentURL(u) == nil
			c := !configRefuses(t, "client_id_metadata_document", u)
			if p != s || p != c {
				t.Errorf("accepted: provider %v, sdk %v, config %v", p, s, c)
			}
		})
	}
	issuers := []string{
		"https://as.example.com",
		"https://as.example.com/tenant/v2.0",
		"http://127.0.0.1:8080",
		"http://[::1]:8080/x",
		"http://localhost",
		"http://as.example.com",
		"https://as.example.com?tenant=a",
		"https://as.example.com/?",
		"https://as.example.com/#x",
		"https://u:p@as.example.com",
		"ftp://as.example.com",
		"https:///x",
		"https://as.example.com/%zz",
	}
	for _, u := range issuers {
		t.Run("issuer "+u, func(t *testing.T) {
			p := provider.CheckIdentifierURL("issuer", u) == nil
			c := !configRefuses(t, "issuer", u)
			if p != c {
				t.Errorf("accepted: provider %v, config %v", p, c)
			}
		})
	}
}
