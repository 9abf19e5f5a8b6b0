package sdk

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/mcpauth/mcpauth/provider"
)

// checkShownURL refuses to show the user a login URL that does not belong
// to the authorization server: its host must be the issuer's, share the
// issuer's registrable domain (accounts.google.com and www.google.com; see
// sameSite), or be listed in Provider.VerificationHosts. It must be https, or http on
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
	if sameSite(host, issuerHost) {
		return nil
	}
	return fmt.Errorf("mcpauth: refusing to show a login URL on host %q: it is not the issuer's host %q (list it in Provider.VerificationHosts if it is genuine)", host, issuerHost)
}

// multiTenantSuffixes are domains where each customer tenant is a
// subdomain (acme.okta.com, acme.us.auth0.com) and which the public suffix
// list does not list: x/net/publicsuffix, ICANN and private sections, gives
// okta.com as the registrable domain of every Okta tenant. Under them only
// the issuer's exact host is trusted, so one tenant's issuer cannot send
// users to another tenant's page. Suffixes the list does carry
// (amazoncognito.com regions, github.io) need no entry here.
var multiTenantSuffixes = []string{
	"okta.com", "oktapreview.com", "okta-emea.com", "okta-gov.com", "okta.mil", // Okta
	"auth0.com",                     // Auth0, regional hosts (acme.us.auth0.com) included
	"b2clogin.com", "ciamlogin.com", // Microsoft Entra B2C and External ID
	"onelogin.com",         // OneLogin
	"cloudflareaccess.com", // Cloudflare Access
	"zitadel.cloud",        // ZITADEL Cloud
	"kinde.com",            // Kinde
	"fusionauth.io",        // FusionAuth Cloud
	"my.salesforce.com",    // Salesforce My Domain
}

// sameSite reports whether two hosts (lower case) belong to the same
// organisation: the same registrable domain under the public suffix list
// (eTLD+1), neither under a multi-tenant SaaS suffix, and neither an IP
// literal (an address has no registrable domain; publicsuffix would treat
// its last two octets as one).
func sameSite(host, issuerHost string) bool {
	if net.ParseIP(host) != nil || net.ParseIP(issuerHost) != nil {
		return false
	}
	if multiTenant(host) || multiTenant(issuerHost) {
		return false
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return false
	}
	id, err := publicsuffix.EffectiveTLDPlusOne(issuerHost)
	return err == nil && d == id
}

func multiTenant(host string) bool {
	host = strings.TrimSuffix(host, ".")
	for _, s := range multiTenantSuffixes {
		if host == s || strings.HasSuffix(host, "."+s) {
			return true
		}
	}
	return false
}

// CheckShownURL is the rule the SDK applies to every URL it shows a user
// (see checkShownURL), for other hosts of logins — the CLI's device and
// browser logins — to apply the same one.
func CheckShownURL(issuer, raw string, allowed []string) error {
	return checkShownURL(issuer, raw, allowed)
}
