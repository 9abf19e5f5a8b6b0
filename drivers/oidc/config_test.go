package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// recordingAS is an authorization server that publishes RFC 8414 metadata
// and records the form of every request to its endpoints.
type recordingAS struct {
	*httptest.Server
	mu    sync.Mutex
	forms map[string]url.Values // by path
}

func newRecordingAS(t *testing.T) *recordingAS {
	as := &recordingAS{forms: map[string]url.Values{}}
	as.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/.well-known/oauth-authorization-server" {
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": as.URL, "authorization_endpoint": as.URL + "/authorize", "token_endpoint": as.URL + "/token",
				"device_authorization_endpoint": as.URL + "/device", "response_types_supported": []string{"code"},
			})
			return
		}
		r.ParseForm()
		as.mu.Lock()
		as.forms[r.URL.Path] = r.PostForm
		as.mu.Unlock()
		switch r.URL.Path {
		case "/device":
			w.Write([]byte(`{"device_code":"dc","user_code":"UC","verification_uri":"` + as.URL + `/verify","expires_in":600}`))
		default:
			w.Write([]byte(`{"access_token":"at","token_type":"Bearer","expires_in":3600.0,"refresh_token":"rt"}`))
		}
	}))
	t.Cleanup(as.Close)
	return as
}

func (as *recordingAS) form(path string) url.Values {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.forms[path]
}

// A driver given only an issuer discovers by itself (Discover nil), applies
// the endpoint overrides to what it found and sends the extra parameters
// on every request.
func TestRegistrationDiscoversAndSendsExtraParams(t *testing.T) {
	as := newRecordingAS(t)
	ctx := context.Background()
	d, err := oidc.Registration.New(ctx, provider.DriverConfig{
		Issuer: as.URL, ClientID: "c",
		Endpoints:   provider.Endpoints{Token: "/token2"},
		ExtraParams: map[string]string{"audience": "https://api.example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.TokenEndpoint != as.URL+"/token2" || m.AuthorizationEndpoint != as.URL+"/authorize" {
		t.Fatalf("endpoints = %s, %s; want the token override applied", m.TokenEndpoint, m.AuthorizationEndpoint)
	}
	u, err := d.(provider.CodeExchanger).AuthCodeURL(ctx, provider.AuthCodeRequest{State: "s", CodeChallenge: "cc", RedirectURI: "http://127.0.0.1/cb"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u, "audience=https%3A%2F%2Fapi.example") {
		t.Errorf("authorization URL lacks the extra parameter: %s", u)
	}
	da, err := d.(provider.DeviceAuthorizer).StartDevice(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := as.form("/device").Get("audience"); got != "https://api.example" {
		t.Errorf("device authorization audience = %q", got)
	}
	for name, call := range map[string]func() (*provider.Token, error){
		"poll": func() (*provider.Token, error) { return d.(provider.DeviceAuthorizer).PollDevice(ctx, da) },
		"exchange": func() (*provider.Token, error) {
			return d.(provider.CodeExchanger).Exchange(ctx, "code", "v", "http://127.0.0.1/cb")
		},
		"refresh": func() (*provider.Token, error) {
			return d.(provider.Refresher).Refresh(ctx, &provider.Token{RefreshToken: "rt"})
		},
	} {
		tok, err := call()
		if err != nil || tok.AccessToken != "at" || tok.Expiry.IsZero() {
			t.Fatalf("%s: %v, %v (expires_in 3600.0 must parse)", name, tok, err)
		}
		if got := as.form("/token2").Get("audience"); got != "https://api.example" {
			t.Errorf("%s: audience = %q", name, got)
		}
		as.mu.Lock()
		delete(as.forms, "/token2")
		as.mu.Unlock()
	}
}

func TestRegistrationRefusesOptions(t *testing.T) {
	_, err := oidc.Registration.New(context.Background(), provider.DriverConfig{
		Issuer: "https://as.example", ClientID: "c", Options: map[string]string{"tenant": "x"},
	})
	if err == nil || !strings.Contains(err.Error(), `oidc: unknown option "tenant"`) {
		t.Fatalf("err = %v", err)
	}
}

// WithClientID keeps the discovered metadata and the concrete type.
func TestWithClientID(t *testing.T) {
	as := newRecordingAS(t)
	d, err := oidc.New(oidc.Config{Issuer: as.URL, ClientID: "c", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Metadata(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := d.WithClientID("https://client.example/cimd.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.(*oidc.Driver).Config(); got.ClientID != "https://client.example/cimd.json" || got.ClientSecret != "" || got.Metadata == nil {
		t.Fatalf("rebound config = %+v", got)
	}
}
