package entra

import (
	"fmt"
	"slices"
	"strings"
)

// graphResource is Microsoft Graph, the resource of a scope without one
// (User.Read means https://graph.microsoft.com/User.Read).
const graphResource = "https://graph.microsoft.com"

// graphAppID is Microsoft Graph's application ID, another name for it in scopes.
const graphAppID = "00000003-0000-0000-c000-000000000000"

// offlineAccess asks Entra for a refresh token.
const offlineAccess = "offline_access"

// oidcScopes belong to no resource: they may go with any one resource.
var oidcScopes = []string{"openid", "profile", "email", offlineAccess}

// ScopeResource returns the resource a scope belongs to: "" for the OpenID
// Connect scopes, Microsoft Graph for a bare name, else what precedes the
// scope's last "/" (https://management.azure.com/user_impersonation,
// api://my-api/Read, {app ID}/.default).
func ScopeResource(scope string) string {
	if slices.Contains(oidcScopes, scope) {
		return ""
	}
	i := strings.LastIndex(scope, "/")
	if i < 0 {
		return graphResource
	}
	r := strings.TrimSuffix(scope[:i], "/")
	if strings.EqualFold(r, graphResource) || strings.EqualFold(r, graphAppID) ||
		strings.EqualFold(r, "https://graph.microsoft.com/v1.0") {
		return graphResource
	}
	return r
}

// CheckScopes refuses, before any request, what Entra would refuse: scopes
// of more than one resource in one request (AADSTS28000 at the token
// endpoint: a token is for one resource), and a {resource}/.default scope
// together with named scopes of its resource (.default already means every
// permission the app registration lists).
func CheckScopes(scopes []string) error {
	var resource, first, named, dflt string
	for _, s := range scopes {
		r := ScopeResource(s)
		if r == "" {
			continue
		}
		if resource != "" && r != resource {
			return fmt.Errorf("entra: scopes %q and %q belong to two resources (%s and %s); Entra issues a token for one resource at a time (AADSTS28000): configure a provider per resource", first, s, resource, r)
		}
		if resource == "" {
			resource, first = r, s
		}
		if strings.HasSuffix(s, "/.default") {
			dflt = s
		} else {
			named = s
		}
		if dflt != "" && named != "" {
			return fmt.Errorf("entra: scope %q cannot be combined with %q: .default already requests every permission the app registration lists for %s", dflt, named, resource)
		}
	}
	return nil
}

// refreshScopes are the scopes to name in a refresh request: those granted,
// of one resource (Entra lists the OpenID scopes it granted alongside).
func refreshScopes(granted, fallback []string) []string {
	s := granted
	if len(s) == 0 {
		s = fallback
	}
	out := slices.Clone(s)
	if !slices.Contains(out, offlineAccess) {
		out = append(out, offlineAccess)
	}
	return out
}
