package okta

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mcpauth/mcpauth/provider"
)

func TestProof(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	p, err := newDPoP(key, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://acme.okta.com/oauth2/default/v1/token?x=1#frag")
	type claims struct {
		JTI, HTM, HTU, Nonce string
		IAT                  int64
	}
	parse := func(proof string) (claims, jose.Header) {
		jws, err := jose.ParseSigned(proof, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		h := jws.Signatures[0].Protected
		if h.JSONWebKey == nil {
			t.Fatal("no jwk header")
		}
		payload, err := jws.Verify(h.JSONWebKey)
		if err != nil {
			t.Fatal(err)
		}
		var c claims
		json.Unmarshal(payload, &c)
		return c, h
	}
	first, err := p.proof(http.MethodPost, u, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	c, h := parse(first)
	if h.ExtraHeaders[jose.HeaderType] != "dpop+jwt" || h.Algorithm != "ES256" || !h.JSONWebKey.IsPublic() {
		t.Fatalf("header = %+v", h)
	}
	if strings.Contains(strings.Split(first, ".")[0], `"d"`) {
		t.Fatal("the private key is in the proof")
	}
	if c.HTM != "POST" || c.HTU != "https://acme.okta.com/oauth2/default/v1/token" || c.IAT != now.Unix() || c.Nonce != "n-1" || c.JTI == "" {
		t.Fatalf("claims = %+v", c)
	}
	second, _ := p.proof(http.MethodPost, u, "")
	c2, h2 := parse(second)
	if c2.JTI == c.JTI || c2.Nonce != "" {
		t.Fatalf("second proof claims = %+v", c2)
	}
	tp1, _ := h.JSONWebKey.Thumbprint(crypto.SHA256)
	tp2, _ := h2.JSONWebKey.Thumbprint(crypto.SHA256)
	if len(tp1) == 0 || !slices.Equal(tp1, tp2) {
		t.Error("the key changed between proofs")
	}
}

func TestChallenge(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "api", name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	body, _ := os.ReadFile(filepath.Join("testdata", "api", "e0000006.json"))
	tests := []struct {
		name   string
		status int
		header []string
		ok     bool
		scopes []string
	}{
		{"Bearer insufficient_scope", 403, []string{read("insufficient_scope.header")}, true, []string{"okta.users.read"}},
		{"DPoP scheme", 403, []string{read("insufficient_scope_dpop.header")}, true, []string{"okta.users.read", "okta.groups.read"}},
		{"invalid_token is not a scope challenge", 401, []string{read("invalid_token.header")}, false, nil},
		{"no challenge", 403, nil, false, nil},
		{"200", 200, []string{read("insufficient_scope.header")}, false, nil},
	}
	d := &Driver{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.header {
				h.Add("WWW-Authenticate", v)
			}
			c, ok := d.Challenge(provider.APIResponse{StatusCode: tt.status, Header: h, Body: body})
			if ok != tt.ok || (ok && !slices.Equal(c.Scopes, tt.scopes)) {
				t.Fatalf("challenge = %+v, %v", c, ok)
			}
			if ok && c.Description == "" {
				t.Error("no description")
			}
			if got := h.Values("WWW-Authenticate"); !slices.Equal(got, tt.header) {
				t.Errorf("the caller's header was changed: %q", got)
			}
		})
	}
	if _, ok := d.Challenge(provider.APIResponse{StatusCode: 403}); ok {
		t.Error("nil header read as a challenge")
	}
}
