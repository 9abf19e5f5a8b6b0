package logintest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// signerKeyID names the key in the JWKS and in every ID token's header.
const signerKeyID = "k1"

var (
	signerOnce sync.Once
	signerKey  *rsa.PrivateKey
	signerErr  error
)

// Signer is an issuer fake's ID-token signing key: it serves the public
// half as a JWKS and signs ID tokens with the private half (RS256, the
// algorithm OpenID Connect Core §3.1.3.7 requires support for). One key is
// generated per test binary, since RSA generation is slow; it is safe for
// concurrent use.
type Signer struct {
	t   testing.TB
	key *rsa.PrivateKey
}

// NewSigner returns the test binary's signing key for t.
func NewSigner(t testing.TB) *Signer {
	t.Helper()
	signerOnce.Do(func() { signerKey, signerErr = rsa.GenerateKey(rand.Reader, 2048) })
	if signerErr != nil {
		t.Fatal(signerErr)
	}
	return &Signer{t: t, key: signerKey}
}

// JWKS answers the issuer's jwks_uri with the public key.
func (s *Signer) JWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: signerKeyID, Algorithm: "RS256", Use: "sig"}}})
}

// IDToken signs claims as a compact JWT. It runs in handlers, off the
// test's goroutine, so a failure is reported with t.Error and answers "".
func (s *Signer) IDToken(claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: s.key, KeyID: signerKeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		s.t.Error(err)
		return ""
	}
	b, err := json.Marshal(claims)
	if err != nil {
		s.t.Error(err)
		return ""
	}
	jws, err := signer.Sign(b)
	if err != nil {
		s.t.Error(err)
		return ""
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		s.t.Error(err)
		return ""
	}
	return out
}
