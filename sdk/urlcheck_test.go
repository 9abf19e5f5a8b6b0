package sdk

import "testing"

// TestCheckShownURLTenants: a shared SaaS domain hosts one tenant per
// subdomain, so "same registrable domain" must not let one tenant's issuer
// send the user to another tenant's page (RFC 8628 §5.4 remote phishing).
func TestCheckShownURLTenants(t *testing.T) {
	tests := []struct {
		issuer, url string
		allowed     []string
		ok          bool
	}{
		{"https://acme.okta.com", "https://acme.okta.com/activate", nil, true},
		{"https://acme.okta.com/oauth2/default", "https://attacker.okta.com/activate", nil, false},
		{"https://acme.okta.com", "https://okta.com/activate", nil, false},
		{"https://acme.oktapreview.com", "https://attacker.oktapreview.com/activate", nil, false},
		{"https://acme.okta-emea.com", "https://attacker.okta-emea.com/activate", nil, false},
		{"https://acme.auth0.com/", "https://attacker.auth0.com/activate", nil, false},
		{"https://acme.us.auth0.com/", "https://attacker.us.auth0.com/activate", nil, false},
		{"https://acme.eu.auth0.com/", "https://acme.eu.auth0.com/activate", nil, true},
		{"https://acme.b2clogin.com/acme.onmicrosoft.com/v2.0", "https://attacker.b2clogin.com/device", nil, false},
		{"https://acme.ciamlogin.com/tenant/v2.0", "https://evil.ciamlogin.com/device", nil, false},
		{"https://acme.auth.us-east-1.amazoncognito.com", "https://evil.auth.us-east-1.amazoncognito.com/x", nil, false},
		{"https://acme.okta.com", "https://login.acme.example/activate", []string{"login.acme.example"}, true},
		{"https://acme.okta.com", "https://ACME.okta.com/activate", nil, true},
		// The public suffix list's private section already separates these.
		{"https://acme.github.io", "https://attacker.github.io/x", nil, false},
		// Ordinary companies keep the registrable-domain rule.
		{"https://accounts.google.com", "https://www.google.com/device", nil, true},
		{"https://login.example.co.uk", "https://device.example.co.uk/x", nil, true},
		{"https://login.example.co.uk", "https://evil.co.uk/x", nil, false},
		// IP literals have no registrable domain: only the same address.
		{"https://10.1.0.1", "https://10.2.0.1/device", nil, false},
		{"https://[2001:db8::1]", "https://[2001:db8::2]/device", nil, false},
		{"http://127.0.0.1:8080", "http://127.0.0.1:9090/device", nil, true},
	}
	for _, tt := range tests {
		err := checkShownURL(tt.issuer, tt.url, tt.allowed)
		if (err == nil) != tt.ok {
			t.Errorf("checkShownURL(%q, %q, %v) = %v, want ok=%v", tt.issuer, tt.url, tt.allowed, err, tt.ok)
		}
	}
}
