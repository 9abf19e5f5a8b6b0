package okta_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

func TestDiscovery(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*fakeOkta)
		source    string // path of the document the driver used
	}{
		{"standard: RFC 8414 path insertion only", nil, "/.well-known/oauth-authorization-server/oauth2/default"},
		{"standard, no OpenID document", func(f *fakeOkta) { f.noOIDCDiscovery = true }, "/.well-known/oauth-authorization-server/oauth2/default"},
		{"legacy: appended only", func(f *fakeOkta) { f.legacyOnly = true }, "/oauth2/default/.well-known/openid-configuration"},
		{"legacy, no OpenID document", func(f *fakeOkta) { f.legacyOnly, f.noOIDCDiscovery = true, true }, "/oauth2/default/.well-known/oauth-authorization-server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOkta(t, tt.configure)
			d, _ := newDriver(t, f.customIssuer(), func(c *okta.Config) { c.Discover = nil })
			m, err := d.Metadata(logintest.Context(t))
			if err != nil {
				t.Fatal(err)
			}
			if m.Source != f.URL+tt.source || m.DeviceAuthorizationEndpoint != f.customIssuer()+"/v1/device/authorize" {
				t.Fatalf("metadata from %s, want %s: %+v", m.Source, tt.source, m)
			}
			if f.Requests("/.well-known/oauth-authorization-server/oauth2/default") != 1 {
				t.Error("RFC 8414 path insertion was not tried first")
			}
		})
	}
}

// TestMetadataClientID: an app whose issuer Okta formats on a custom domain
// gets that issuer in the metadata only when the request names the app
// (?client_id=); without, the document names another issuer and discovery
// refuses it (RFC 8414 §3.3). Option metadata_client_id sends it.
func TestMetadataClientID(t *testing.T) {
	f := newFakeOkta(t, func(f *fakeOkta) { f.dynamicIssuer = true })
	issuer := f.customDomain() + "/oauth2/default"
	tests := []struct {
		name    string
		options map[string]string
		want    error
	}{
		{"without client_id: another issuer", nil, provider.ErrIssuerMismatch},
		{"metadata_client_id: true", map[string]string{"metadata_client_id": "true"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := okta.Registration.New(context.Background(), provider.DriverConfig{Issuer: issuer, ClientID: f.clientID, Options: tt.options})
			if err != nil {
				t.Fatal(err)
			}
			m, err := d.Metadata(logintest.Context(t))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (m.Issuer != issuer || m.TokenEndpoint != issuer+"/v1/token") {
				t.Fatalf("metadata = %+v", m)
			}
		})
	}
	if _, err := okta.Registration.New(context.Background(), provider.DriverConfig{Issuer: issuer, ClientID: "c", Options: map[string]string{"metadata_client_id": "yes"}}); err == nil {
		t.Error("metadata_client_id: yes accepted")
	}
}

func TestDiscoveryFallbacks(t *testing.T) {
	for iss, want := range map[string][]string{
		"https://acme.okta.com/oauth2/default": {
			"https://acme.okta.com/oauth2/default/.well-known/oauth-authorization-server",
			"https://acme.okta.com/oauth2/default/.well-known/openid-configuration",
		},
		"https://acme.okta.com/oauth2/aus1a2b3c4/": {
			"https://acme.okta.com/oauth2/aus1a2b3c4/.well-known/oauth-authorization-server",
			"https://acme.okta.com/oauth2/aus1a2b3c4/.well-known/openid-configuration",
		},
		"https://acme.okta.com": {
			"https://acme.okta.com/.well-known/oauth-authorization-server",
			"https://acme.okta.com/.well-known/openid-configuration",
		},
		"not a url": nil,
	} {
		if got := okta.DiscoveryFallbacks(iss); !slices.Equal(got, want) {
			t.Errorf("DiscoveryFallbacks(%q) = %q, want %q", iss, got, want)
		}
	}
}

func TestClaims(t *testing.T) {
	for iss, want := range map[string]bool{
		"https://acme.okta.com":                 true,
		"https://acme.okta.com/oauth2/default":  true,
		"https://ACME.Okta.com/oauth2/aus1":     true,
		"https://acme.oktapreview.com":          true,
		"https://acme.okta-emea.com/oauth2/v1":  true,
		"https://dev-123456.okta.com/":          true,
		"https://okta.com":                      false,
		"http://acme.okta.com":                  false,
		"https://acme.okta.com:8443":            false,
		"https://acme.okta.com.evil.example":    false,
		"https://acmeokta.com":                  false,
		"https://login.acme.com/oauth2/default": false,
		"https://user@acme.okta.com":            false,
		"https://github.com":                    false,
	} {
		if got := okta.Claims(iss); got != want {
			t.Errorf("Claims(%q) = %v, want %v", iss, got, want)
		}
	}
}

func TestDescribeAndRebind(t *testing.T) {
	f := newFakeOkta(t, nil)
	d, _ := newDriver(t, f.customIssuer(), nil)
	desc := d.Describe()
	if desc.Name != "okta" || desc.ClientID != f.clientID || !slices.Equal(desc.Grants, []provider.Grant{provider.GrantPKCE, provider.GrantDevice}) ||
		!slices.Equal(desc.DefaultScopes, []string{"openid", "profile", "offline_access"}) || len(desc.Quirks) == 0 {
		t.Fatalf("description = %+v", desc)
	}
	if _, err := d.Metadata(logintest.Context(t)); err != nil {
		t.Fatal(err)
	}
	discovered := f.Requests("/oauth2/default/.well-known/openid-configuration")
	r, err := d.(provider.ClientRebinder).WithClientID("https://app.example.com/cimd.json")
	if err != nil {
		t.Fatal(err)
	}
	if r.Describe().ClientID != "https://app.example.com/cimd.json" || r.Describe().Name != "okta" {
		t.Fatalf("rebound description = %+v", r.Describe())
	}
	if _, err := r.Metadata(logintest.Context(t)); err != nil {
		t.Fatal(err)
	}
	if f.Requests("/oauth2/default/.well-known/openid-configuration") != discovered {
		t.Error("the rebound driver discovered the metadata again")
	}
}

func TestNew(t *testing.T) {
	meta := &provider.AuthServerMetadata{Issuer: "https://acme.okta.com", TokenEndpoint: "https://acme.okta.com/oauth2/v1/token"}
	for name, cfg := range map[string]okta.Config{
		"no client":       {Metadata: meta},
		"no issuer":       {ClientID: "c"},
		"issuer mismatch": {ClientID: "c", Issuer: "https://other.okta.com", Metadata: meta},
		"http issuer":     {ClientID: "c", Issuer: "http://acme.okta.com", Discover: func(context.Context, string) (*provider.AuthServerMetadata, error) { return nil, nil }},
	} {
		if _, err := okta.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	d, err := okta.New(okta.Config{ClientID: "c", Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := d.Metadata(logintest.Context(t)); m.Issuer != meta.Issuer {
		t.Fatalf("metadata = %+v", m)
	}
}
