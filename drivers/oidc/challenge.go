package oidc

import (
	"net/http"
	"strings"

	"github.com/mcpauth/mcpauth/provider"
)

// Challenge reads an RFC 6750 §3 Bearer challenge: a 401 or 403 with
// WWW-Authenticate: Bearer error="insufficient_scope", scope="…".
func (d *Driver) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	return BearerChallenge(resp)
}

// BearerChallenge is the RFC 6750 challenge reader, for drivers that build
// on this one.
func BearerChallenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	return InsufficientScope(resp, "Bearer")
}

// InsufficientScope finds an insufficient_scope challenge (RFC 6750 §3.1)
// in one of the given schemes (Bearer; DPoP, RFC 9449 §7.1, uses the same
// parameters) among all the challenges of a 401 or 403 response. A server
// may send several, in several header lines or in one line separated by
// commas (Basic realm="x", Bearer error="insufficient_scope").
func InsufficientScope(resp provider.APIResponse, schemes ...string) (*provider.ScopeChallenge, bool) {
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return nil, false
	}
	for _, c := range ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate")) {
		if !c.isOneOf(schemes) || c.Params["error"] != "insufficient_scope" {
			continue
		}
		return &provider.ScopeChallenge{
			Scopes:      ParseScopes(c.Params["scope"]),
			Description: c.Params["error_description"],
		}, true
	}
	return nil, false
}

// AuthChallenge is one challenge of a WWW-Authenticate header (RFC 9110
// §11.6.1): a scheme with either a token68 or auth-params.
type AuthChallenge struct {
	// Scheme is as sent; compare it case-insensitively.
	Scheme string
	// Token68 is the challenge's token68 form, if it has one.
	Token68 string
	// Params are the auth-params, names lower-cased (they are
	// case-insensitive), values unquoted. A repeated name keeps its first
	// value.
	Params map[string]string
}

func (c AuthChallenge) isOneOf(schemes []string) bool {
	for _, s := range schemes {
		if strings.EqualFold(c.Scheme, s) {
			return true
		}
	}
	return false
}

// ParseWWWAuthenticate parses the values of WWW-Authenticate header lines
// into their challenges, in order (RFC 9110 §11.6.1):
//
//	WWW-Authenticate = #challenge
//	challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//	auth-param = token BWS "=" BWS ( token / quoted-string )
//
// Commas separate both challenges and the parameters of one; a list item
// that is a token without "=" starts the next challenge. Malformed input
// is skipped up to the next comma, never refused as a whole.
func ParseWWWAuthenticate(values []string) []AuthChallenge {
	var out []AuthChallenge
	for _, v := range values {
		l := &headerLexer{s: v}
		for {
			l.skipListSeparators()
			if l.eof() {
				break
			}
			scheme := l.token()
			if scheme == "" {
				l.skipPastComma()
				continue
			}
			c := AuthChallenge{Scheme: scheme, Params: map[string]string{}}
			if l.spaces() > 0 {
				if t, ok := l.token68(); ok {
					c.Token68 = t
				} else {
					l.params(c.Params)
				}
			}
			out = append(out, c)
			l.skipOWS()
			if !l.eof() && l.peek() != ',' {
				l.skipPastComma() // junk after the challenge
			}
		}
	}
	return out
}

// headerLexer walks one header value.
type headerLexer struct {
	s string
	i int
}

func (l *headerLexer) eof() bool  { return l.i >= len(l.s) }
func (l *headerLexer) peek() byte { return l.s[l.i] }

func (l *headerLexer) skipOWS() {
	for !l.eof() && (l.peek() == ' ' || l.peek() == '\t') {
		l.i++
	}
}

func (l *headerLexer) spaces() int {
	start := l.i
	l.skipOWS()
	return l.i - start
}

func (l *headerLexer) skipListSeparators() {
	for !l.eof() && (l.peek() == ' ' || l.peek() == '\t' || l.peek() == ',') {
		l.i++
	}
}

func (l *headerLexer) skipPastComma() {
	for !l.eof() && l.peek() != ',' {
		if l.peek() == '"' {
			l.quoted()
			continue
		}
		l.i++
	}
}

func (l *headerLexer) token() string {
	start := l.i
	for !l.eof() && isTchar(l.peek()) {
		l.i++
	}
	return l.s[start:l.i]
}

// token68 reads a token68 that makes up the whole challenge (followed only
// by the end or a comma); otherwise it consumes nothing.
func (l *headerLexer) token68() (string, bool) {
	start := l.i
	for !l.eof() && isToken68Char(l.peek()) {
		l.i++
	}
	if l.i == start {
		return "", false
	}
	for !l.eof() && l.peek() == '=' {
		l.i++
	}
	end := l.i
	l.skipOWS()
	if l.eof() || l.peek() == ',' {
		return l.s[start:end], true
	}
	l.i = start
	return "", false
}

// params reads #auth-param into into, stopping before a list item that is
// not a parameter (the next challenge's scheme).
func (l *headerLexer) params(into map[string]string) {
	for {
		save := l.i
		l.skipListSeparators()
		name := l.token()
		l.skipOWS()
		if name == "" || l.eof() || l.peek() != '=' {
			l.i = save
			return
		}
		l.i++ // "="
		l.skipOWS()
		var val string
		if !l.eof() && l.peek() == '"' {
			val = l.quoted()
		} else {
			val = l.token()
		}
		name = strings.ToLower(name)
		if _, dup := into[name]; !dup {
			into[name] = val
		}
		l.skipOWS()
		if l.eof() || l.peek() != ',' {
			return
		}
	}
}

// quoted reads a quoted-string and returns its content, backslash escapes
// resolved. An unterminated string runs to the end of the value.
func (l *headerLexer) quoted() string {
	var b strings.Builder
	for l.i++; !l.eof(); l.i++ {
		switch c := l.peek(); {
		case c == '"':
			l.i++
			return b.String()
		case c == '\\' && l.i+1 < len(l.s):
			l.i++
			b.WriteByte(l.s[l.i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isTchar: RFC 9110 §5.6.2.
func isTchar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isToken68Char: RFC 9110 §11.2, without the trailing "=".
func isToken68Char(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0
}
