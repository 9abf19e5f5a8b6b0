package okta

import (
	"net/http"
	"strings"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Challenge reads RFC 6750 §3 insufficient_scope challenges, which Okta's
// APIs send on a 403. A DPoP-bound token is challenged in the DPoP scheme
// with the same parameters (RFC 9449 §7.1); it is read the same way.
func (d *Driver) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	h := resp.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	values := h.Values("WWW-Authenticate")
	h.Del("WWW-Authenticate")
	for _, v := range values {
		v = strings.TrimSpace(v)
		if scheme, rest, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "DPoP") {
			v = "Bearer " + rest
		}
		h.Add("WWW-Authenticate", v)
	}
	resp.Header = h
	return oidc.BearerChallenge(resp)
}
