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
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return nil, false
	}
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		params, ok := parseBearer(h)
		if !ok || params["error"] != "insufficient_scope" {
			continue
		}
		return &provider.ScopeChallenge{
			Scopes:      ParseScopes(params["scope"]),
			Description: params["error_description"],
		}, true
	}
	return nil, false
}

// parseBearer parses the auth-params of a Bearer challenge (RFC 9110
// §11.6.1): token68-free, name=token or name="quoted string".
func parseBearer(h string) (map[string]string, bool) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, false
	}
	params := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		name, after, ok := strings.Cut(rest, "=")
		if !ok {
			return params, true
		}
		name = strings.ToLower(strings.TrimSpace(name))
		after = strings.TrimLeft(after, " ")
		var val string
		if strings.HasPrefix(after, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(after) && after[i] != '"'; i++ {
				if after[i] == '\\' && i+1 < len(after) {
					i++
				}
				b.WriteByte(after[i])
			}
			val, rest = b.String(), after[min(i+1, len(after)):]
		} else {
			val, rest, _ = strings.Cut(after, ",")
			val = strings.TrimSpace(val)
			rest = "," + rest
		}
		params[name] = val
		rest = strings.TrimLeft(rest, " ")
		rest = strings.TrimPrefix(rest, ",")
		rest = strings.TrimLeft(rest, " ")
	}
	return params, true
}
