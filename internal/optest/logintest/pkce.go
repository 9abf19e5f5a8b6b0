package logintest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// RandomString returns 128 random bits, base64url-encoded without padding
// (22 characters): fit for codes, tokens and nonces a fake hands out.
func RandomString() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// S256 is the PKCE code challenge of verifier under the S256 method:
// BASE64URL(SHA256(verifier)) (RFC 7636 section 4.2). A fake compares it
// with the challenge of the authorization request when it redeems a code.
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
