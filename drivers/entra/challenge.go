package entra

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Microsoft Graph error codes of a 403 that refuses a permission. Graph
// names no scope, so the challenge can only say what to grant where.
var graphDenied = map[string]string{
	"Authorization_RequestDenied": "a Microsoft Graph permission or directory role the signed-in user or the app lacks (Graph error Authorization_RequestDenied): add the API permission to the app registration and grant consent",
	"accessDenied":                "a Microsoft Graph permission the token lacks (Graph error accessDenied): add the delegated API permission to the app registration, grant consent, and request its scope",
	"ErrorAccessDenied":           "a Microsoft Graph permission the token lacks (Graph error ErrorAccessDenied): add the delegated API permission to the app registration, grant consent, and request its scope",
}

// Challenge reads a refusal from an API that takes Entra tokens:
//
//   - RFC 6750 insufficient_scope challenges (APIs of your own);
//   - claims challenges, WWW-Authenticate: Bearer error="insufficient_claims",
//     claims="<base64 JSON>" (Conditional Access, continuous access
//     evaluation): reported with a Description naming insufficient_claims
//     and no scope, since only a login with the claims parameter satisfies
//     it (ParseClaimsChallenge, WithClaims);
//   - Microsoft Graph 403s with {"error":{"code":"Authorization_RequestDenied"
//     | "accessDenied"}}: reported as a permission to grant, since Graph
//     does not say which scope it wanted.
func (d *Driver) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return nil, false
	}
	if c, ok := oidc.BearerChallenge(resp); ok {
		return c, true
	}
	if claims, err := ParseClaimsChallenge(resp); err == nil && claims != "" {
		return &provider.ScopeChallenge{
			Description: "insufficient_claims: the API asks for a new login that satisfies a claims challenge (Conditional Access or continuous access evaluation); log in again with the claims (entra.ParseClaimsChallenge, Driver.WithClaims)",
		}, true
	}
	if resp.StatusCode == http.StatusForbidden {
		var body struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal(resp.Body, &body) == nil {
			if p, ok := graphDenied[body.Error.Code]; ok {
				return &provider.ScopeChallenge{Permissions: []string{p}, Description: "Microsoft Graph " + body.Error.Code}, true
			}
		}
	}
	return nil, false
}

// ParseClaimsChallenge returns the claims request of a claims challenge
// (the decoded JSON of the claims parameter of WWW-Authenticate: Bearer
// error="insufficient_claims", claims="…"), or "" when resp carries none.
// Pass it to WithClaims.
func ParseClaimsChallenge(resp provider.APIResponse) (string, error) {
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		params, ok := bearerParams(h)
		if !ok || params["error"] != "insufficient_claims" {
			continue
		}
		enc := params["claims"]
		if enc == "" {
			return "", fmt.Errorf("entra: insufficient_claims challenge without a claims parameter")
		}
		for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := e.DecodeString(enc); err == nil && json.Valid(b) {
				return string(b), nil
			}
		}
		return "", fmt.Errorf("entra: insufficient_claims challenge: the claims parameter is not base64-encoded JSON")
	}
	return "", nil
}

// bearerParams reads the auth-params of a Bearer challenge (RFC 9110
// §11.6.1). The generic driver's reader is not exported, and it is needed
// here for a parameter other than scope.
func bearerParams(h string) (map[string]string, bool) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, false
	}
	params := map[string]string{}
	for {
		rest = strings.TrimLeft(rest, " ,")
		name, after, ok := strings.Cut(rest, "=")
		if !ok {
			return params, true
		}
		name = strings.ToLower(strings.TrimSpace(name))
		var val string
		if after = strings.TrimLeft(after, " "); strings.HasPrefix(after, `"`) {
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
		}
		params[name] = strings.TrimSpace(val)
	}
}
