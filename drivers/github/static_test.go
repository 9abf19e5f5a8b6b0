package github_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/github"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

// roundTripFunc answers requests in process, for URLs that must not reach
// the network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestIdentityAPIURL(t *testing.T) {
	tests := []struct {
		name     string
		cfg      github.Config
		wantUser string
	}{
		{"github.com", github.Config{}, "https://api.github.com/user"},
		{"GitHub Enterprise Server", github.Config{BaseURL: "https://ghe.example.com"}, "https://ghe.example.com/api/v3/user"},
		{"explicit API URL", github.Config{BaseURL: "https://ghe.example.com", APIURL: "https://api.ghe.example.com/"}, "https://api.ghe.example.com/user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, auth string
			cfg := tt.cfg
			cfg.ClientID = "Iv1.x"
			cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				got, auth = r.URL.String(), r.Header.Get("Authorization")
				return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
					Body: io.NopCloser(strings.NewReader(string(logintest.Canned(t, "user.json", nil)))), Request: r}, nil
			})}
			d, err := github.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			id, err := d.Identity(logintest.Context(t), &provider.Token{AccessToken: "gho_x"})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.wantUser || auth != "Bearer gho_x" || id.Subject != "583231" {
				t.Fatalf("GET %s with %q → %+v", got, auth, id)
			}
		})
	}
	t.Run("bad credentials", func(t *testing.T) {
		f := newFakeGitHub(t, nil)
		_, err := newDriver(t, f, nil).(provider.Identifier).Identity(logintest.Context(t), &provider.Token{AccessToken: "gho_unknown"})
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestStaticMetadata(t *testing.T) {
	m, err := github.StaticMetadata("https://ghe.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if m.Issuer != "https://ghe.example.com" || m.DeviceAuthorizationEndpoint != "https://ghe.example.com/login/device/code" ||
		m.AuthorizationEndpoint != "https://ghe.example.com/login/oauth/authorize" || m.TokenEndpoint != "https://ghe.example.com/login/oauth/access_token" ||
		!m.Offers(provider.GrantDevice) || !m.Offers(provider.GrantPKCE) {
		t.Fatalf("metadata = %+v", m)
	}
	for _, bad := range []string{"http://ghe.example.com", "https://ghe.example.com/sub", "ghe.example.com", "https://ghe.example.com?x=1"} {
		if _, err := github.StaticMetadata(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := github.StaticMetadata("http://127.0.0.1:8080"); err != nil {
		t.Errorf("loopback http refused: %v", err)
	}
}

func TestNew(t *testing.T) {
	if _, err := github.New(github.Config{}); err == nil {
		t.Error("no client ID accepted")
	}
	if _, err := github.New(github.Config{ClientID: "x", APIURL: "http://api.example.com"}); err == nil {
		t.Error("http API URL accepted")
	}
	d, err := github.New(github.Config{ClientID: "Iv1.x", Scopes: []string{"repo"}})
	if err != nil {
		t.Fatal(err)
	}
	// No client secret: GitHub's code exchange needs one, so no PKCE.
	desc := d.Describe()
	if desc.Name != "github" || desc.Version == "" || desc.ClientID != "Iv1.x" || !slices.Equal(desc.DefaultScopes, []string{"repo"}) ||
		!slices.Equal(desc.Grants, []provider.Grant{provider.GrantDevice}) || len(desc.Quirks) == 0 {
		t.Fatalf("description = %+v", desc)
	}
	// GitHub's metadata offers no client ID metadata documents, so a host
	// never rebinds; if one did, the driver must stay GitHub's.
	if m, _ := d.Metadata(context.Background()); m.ClientIDMetadataDocumentSupported {
		t.Error("GitHub's static metadata claims client ID metadata document support")
	}
	rebound, err := d.WithClientID("Iv1.other")
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := rebound.(*github.Driver); !ok || g.Describe().ClientID != "Iv1.other" || g.Describe().Name != "github" {
		t.Errorf("WithClientID = %T %+v, want a GitHub driver for Iv1.other", rebound, rebound.Describe())
	}
}

func TestClaims(t *testing.T) {
	for iss, want := range map[string]bool{
		"https://github.com":       true,
		"https://github.com/":      true,
		"https://GitHub.com":       true,
		"http://github.com":        false,
		"https://github.com/login": false,
		"https://api.github.com":   false,
		"https://ghe.example.com":  false,
		"https://github.com.evil":  false,
		"https://github.com:8443":  false,
		"https://user@github.com":  false,
		"https://notgithub.com":    false,
		"":                         false,
	} {
		if got := github.Claims(iss); got != want {
			t.Errorf("Claims(%q) = %v, want %v", iss, got, want)
		}
	}
}
