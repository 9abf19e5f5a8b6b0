package sdk

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/mcpauth/mcpauth/provider"
)

// checkShownURL refuses to show the user a login URL that does not belong
// to the authorization server: its host must be the issuer's, share the
// issuer's registrable domain (accounts.google.com and www.google.com), or
// be listed in Provider.VerificationHosts. It must be https, or http on
// loopback. The URL comes from the authorization server's own responses
// (RFC 8628 §3.2 verification_uri) or the driver, never from tool input;
// this check guards against a compromised or misconfigured one sending users
// elsewhere (RFC 8628 §5.4 remote phishing).
func checkShownURL(issuer, raw string, allowed []string) error {
	if err := provider.CheckEndpointURL("login URL", raw); err != nil {
		return fmt.Errorf("mcpauth: refusing to show it: %w", err)
	}
	u, _ := url.Parse(raw)
	iu, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("mcpauth: issuer %q: %w", issuer, err)
	}
	host, issuerHost := strings.ToLower(u.Hostname()), strings.ToLower(iu.Hostname())
	if host == issuerHost {
		return nil
	}
	for _, h := range allowed {
		if strings.EqualFold(h, host) {
			return nil
		}
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		if id, err := publicsuffix.EffectiveTLDPlusOne(issuerHost); err == nil && d == id {
			return nil
		}
	}
	return fmt.Errorf("mcpauth: refusing to show a login URL on host %q: it is not the issuer's host %q (list it in Provider.VerificationHosts if it is genuine)", host, issuerHost)
}
