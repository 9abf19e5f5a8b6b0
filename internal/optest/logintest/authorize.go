package logintest

import (
	"net/http"
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

// AuthorizeRequest is an authorization request (RFC 6749 section 4.1.1,
// RFC 7636 section 4.3) as an issuer fake's authorization endpoint reads
// it. The checks every issuer makes are methods; how an issuer words a
// refusal stays in its fake.
type AuthorizeRequest struct {
	Query url.Values
	// Redirect is the loopback redirect_uri, or nil when redirect_uri is
	// not one (see LoopbackRedirect).
	Redirect *url.URL
}

// ReadAuthorize reads the authorization request of r.
func ReadAuthorize(r *http.Request) AuthorizeRequest {
	q := r.URL.Query()
	ru, _ := LoopbackRedirect(q.Get("redirect_uri"))
	return AuthorizeRequest{Query: q, Redirect: ru}
}

// ClientIs reports whether the request is for client id.
func (a AuthorizeRequest) ClientIs(id string) bool { return a.Query.Get("client_id") == id }

// Registered reports whether the request's redirect_uri is exactly one of
// registered, port and host included, as issuers that match redirect URIs
// strictly check it (Okta; Slack, whose registered URLs pin the port). When
// it is, Redirect is set to it, so RedirectBack can answer a redirect URI
// that LoopbackRedirect would not read (http://localhost:PORT/callback).
func (a *AuthorizeRequest) Registered(registered []string) bool {
	raw := a.Query.Get("redirect_uri")
	for _, r := range registered {
		if raw == r {
			u, err := url.Parse(raw)
			if err != nil {
				return false
			}
			a.Redirect = u
			return true
		}
	}
	return false
}

// HasS256 reports whether the request carries an S256 PKCE challenge.
func (a AuthorizeRequest) HasS256() bool {
	return a.Query.Get("code_challenge_method") == "S256" && a.Query.Get("code_challenge") != ""
}

// Issue remembers the request in codes and returns its authorization code;
// scopeParam names the parameter the issuer reads scopes from ("scope", or
// Slack's "user_scope"), issuer is AuthCode.Issuer.
func (a AuthorizeRequest) Issue(codes *AuthCodes, scopeParam, issuer string) string {
	return codes.Issue(AuthCode{
		RedirectURI: a.Query.Get("redirect_uri"), Challenge: a.Query.Get("code_challenge"),
		Scope: a.Query.Get(scopeParam), Issuer: issuer,
	})
}

// RedirectBack answers with the redirect to the client's loopback
// redirect_uri carrying the request's state and params (a code, or an
// error). The request must have a loopback Redirect.
func (a AuthorizeRequest) RedirectBack(w http.ResponseWriter, r *http.Request, params url.Values) {
	u := *a.Redirect
	back := u.Query()
	back.Set("state", a.Query.Get("state"))
	for k, v := range params {
		back[k] = v
	}
	u.RawQuery = back.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}
