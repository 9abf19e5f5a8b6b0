package logintest

import (
	"net/url"
	"sync"

	"github.com/mcpauth/mcpauth/login"
)

// LoopbackRedirect parses the redirect_uri of an authorization request as
// the issuers' fakes accept it: the loopback callback
// http://127.0.0.1:PORT/callback on any port, since a native client picks
// its port when it listens (RFC 8252 section 7.3). ok is false for any other
// redirect_uri, which a fake refuses in its issuer's words.
func LoopbackRedirect(redirectURI string) (u *url.URL, ok bool) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Path != login.DefaultCallbackPath {
		return nil, false
	}
	return u, true
}

// AuthCode is what an issuer fake remembers of an authorization request
// when it hands out an authorization code: what the code's redemption at
// the token endpoint must match.
type AuthCode struct {
	// RedirectURI is the request's redirect_uri; the token request must
	// repeat it (RFC 6749 section 4.1.3).
	RedirectURI string
	// Challenge is the request's S256 code_challenge.
	Challenge string
	Scope     string
	// Issuer is the authorization server that issued the code, for a fake
	// that serves several; "" otherwise.
	Issuer string
}

// Verifies reports whether verifier is the PKCE code verifier of the
// code's S256 challenge (RFC 7636 section 4.6).
func (a AuthCode) Verifies(verifier string) bool {
	return S256(verifier) == a.Challenge
}

// AuthCodes are an issuer fake's outstanding authorization codes. Safe for
// concurrent use; the zero value is ready.
type AuthCodes struct {
	mu     sync.Mutex
	byCode map[string]AuthCode
}

// Issue returns a new code for the authorization request a.
func (c *AuthCodes) Issue(a AuthCode) string {
	code := RandomString()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byCode == nil {
		c.byCode = map[string]AuthCode{}
	}
	c.byCode[code] = a
	return code
}

// Redeem returns the authorization request of code and forgets the code,
// whatever comes of the redemption: a code is good once (RFC 6749 section
// 4.1.2).
func (c *AuthCodes) Redeem(code string) (AuthCode, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.byCode[code]
	delete(c.byCode, code)
	return a, ok
}
