package auth0_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/auth0"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

func TestNormalizeIssuer(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{"https://acme.auth0.com/", "https://acme.auth0.com/", ""},
		{"https://acme.auth0.com", "https://acme.auth0.com/", ""},
		{"https://acme.eu.auth0.com", "https://acme.eu.auth0.com/", ""},
		{"https://login.acme.example/", "https://login.acme.example/", ""},
		{"https://acme.auth0.com/oauth", "", "has a path"},
		{"https://acme.auth0.com/?x=1", "", "no query"},
		{"http://acme.auth0.com/", "", "https"},
		{"", "", "not an absolute URL"},
	} {
		got, err := auth0.NormalizeIssuer(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("NormalizeIssuer(%q) = %q, %v; want an error saying %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeIssuer(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestIssuerWithoutSlash: configured without its slash, the issuer still
// matches the discovery document's exactly.
func TestIssuerWithoutSlash(t *testing.T) {
	f := newFakeAuth0(t, nil)
	d := newDriver(t, f, func(c *auth0.Config) { c.Issuer = f.URL })
	m, err := d.Metadata(logintest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Issuer != f.issuer() || d.Config().Issuer != f.issuer() {
		t.Fatalf("issuer = %q (driver %q), want %q", m.Issuer, d.Config().Issuer, f.issuer())
	}
}

func TestClaims(t *testing.T) {
	for iss, want := range map[string]bool{
		"https://acme.auth0.com/":              true,
		"https://acme.auth0.com":               true,
		"https://dev-x1y2z3.us.auth0.com/":     true,
		"https://acme.eu.auth0.com/":           true,
		"https://acme.au.auth0.com/":           true,
		"https://acme.jp.auth0.com/":           true,
		"https://acme.ca.auth0.com/":           true,
		"https://acme.uk.auth0.com/":           true,
		"https://ACME.Auth0.com/":              true,
		"https://auth0.com/":                   false,
		"https://a.b.auth0.com/":               false,
		"https://acme.xx.auth0.com/":           false,
		"https://acme.eu.eu.auth0.com/":        false,
		"https://acme.auth0.com.evil.example/": false,
		"https://acmeauth0.com/":               false,
		"https://acme-auth0.com/":              false,
		"http://acme.auth0.com/":               false,
		"https://acme.auth0.com:8443/":         false,
		"https://acme.auth0.com/api/v2/":       false,
		"https://user@acme.auth0.com/":         false,
		"https://login.acme.example/":          false,
	} {
		if got := auth0.Claims(iss); got != want {
			t.Errorf("Claims(%q) = %v, want %v", iss, got, want)
		}
	}
}

func TestRegistrationOptions(t *testing.T) {
	none := func(context.Context, string) (*provider.AuthServerMetadata, error) {
		t.Error("the factory made a request")
		return nil, context.Canceled
	}
	base := provider.DriverConfig{Issuer: "https://acme.auth0.com/", ClientID: "c", Discover: none}
	for _, tt := range []struct {
		name     string
		options  map[string]string
		extra    map[string]string
		audience string
		err      string
	}{
		{"audience option", map[string]string{"audience": testAPI}, nil, testAPI, ""},
		{"extra_params form", nil, map[string]string{"audience": testAPI}, testAPI, ""},
		{"both, equal", map[string]string{"audience": testAPI}, map[string]string{"audience": testAPI}, testAPI, ""},
		{"both, different", map[string]string{"audience": testAPI}, map[string]string{"audience": "https://other"}, "", "differ"},
		{"typo", map[string]string{"audiance": testAPI}, nil, "", `did you mean "audience"`},
		{"offline_access false", map[string]string{"offline_access": "false"}, nil, "", ""},
		{"offline_access junk", map[string]string{"offline_access": "maybe"}, nil, "", "want true or false"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			cfg.Options, cfg.ExtraParams = tt.options, tt.extra
			d, err := auth0.Registration.New(context.Background(), cfg)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := d.(*auth0.Driver)
			if a.Audience() != tt.audience || a.Config().ExtraParams["audience"] != tt.audience {
				t.Fatalf("audience = %q, extra params %v; want %q", a.Audience(), a.Config().ExtraParams, tt.audience)
			}
			offline := slices.Contains(a.Describe().DefaultScopes, "offline_access")
			if offline == (tt.options["offline_access"] == "false") {
				t.Errorf("default scopes %q", a.Describe().DefaultScopes)
			}
		})
	}
}

func TestDescribeAndRebind(t *testing.T) {
	f := newFakeAuth0(t, nil)
	d := newDriver(t, f, nil)
	desc := d.Describe()
	if desc.Name != "auth0" || desc.ClientID != f.clientID || !slices.Equal(desc.Grants, []provider.Grant{provider.GrantPKCE, provider.GrantDevice}) ||
		!slices.Equal(desc.DefaultScopes, []string{"openid", "profile", "offline_access"}) {
		t.Fatalf("description = %+v", desc)
	}
	if _, err := d.Metadata(logintest.Context(t)); err != nil {
		t.Fatal(err)
	}
	discovered := f.Requests("/.well-known/openid-configuration")
	r, err := d.WithClientID("https://app.example.com/cimd.json")
	if err != nil {
		t.Fatal(err)
	}
	a, ok := r.(*auth0.Driver)
	if !ok || a.Describe().ClientID != "https://app.example.com/cimd.json" || a.Audience() != testAPI {
		t.Fatalf("rebound = %T %+v", r, r.Describe())
	}
	if _, err := r.Metadata(logintest.Context(t)); err != nil || f.Requests("/.well-known/openid-configuration") != discovered {
		t.Fatalf("rebound metadata: %v (discovered again: %v)", err, f.Requests("/.well-known/openid-configuration") != discovered)
	}
}
