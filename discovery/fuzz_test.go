package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/mcpauth/mcpauth/provider"
)

// fuzzServer serves body at every path, with ISSUER replaced by the
// server's own URL, so seeds stay valid whatever port the server gets.
type fuzzServer struct {
	*httptest.Server
	mu   sync.Mutex
	body []byte
}

func newFuzzServer(f *testing.F) *fuzzServer {
	s := &fuzzServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		b := bytes.ReplaceAll(s.body, []byte("ISSUER"), []byte(s.URL))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	f.Cleanup(s.Close)
	return s
}

func (s *fuzzServer) serve(b []byte) {
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

// FuzzAuthServerMetadata feeds documents through AuthServer against a
// loopback server: no panic, and a document that is accepted names the
// issuer asked for and passes Validate.
func FuzzAuthServerMetadata(f *testing.F) {
	f.Add([]byte(`{"issuer":"ISSUER","token_endpoint":"ISSUER/token","authorization_endpoint":"ISSUER/authorize"}`))
	f.Add([]byte(`{"issuer":"ISSUER","token_endpoint":"https://as.example/token","jwks_uri":"http://127.0.0.1/jwks","grant_types_supported":["urn:ietf:params:oauth:grant-type:device_code"]}`))
	f.Add([]byte(`{"issuer":"ISSUER/other","token_endpoint":"ISSUER/token"}`))
	f.Add([]byte(`{"issuer":"ISSUER","token_endpoint":"javascript:alert(1)"}`))
	f.Add([]byte(`{"issuer":"ISSUER","token_endpoint":"ISSUER/t#f","code_challenge_methods_supported":"S256"}`))
	f.Add([]byte(`{"issuer":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		srv.serve(body)
		d := &Discoverer{HTTPClient: srv.Client(), MaxBody: 64 << 10}
		m, err := d.AuthServer(context.Background(), srv.URL)
		if err != nil {
			return
		}
		if m.Issuer != srv.URL {
			t.Fatalf("accepted a document naming issuer %q for %q", m.Issuer, srv.URL)
		}
		if err := m.Validate(); err != nil || m.TokenEndpoint == "" {
			t.Fatalf("accepted a document that fails Validate (%v) or has no token endpoint", err)
		}
	})
}

// FuzzProtectedResourceMetadata does the same for RFC 9728 documents.
func FuzzProtectedResourceMetadata(f *testing.F) {
	f.Add([]byte(`{"resource":"ISSUER/api","authorization_servers":["https://as.example"]}`))
	f.Add([]byte(`{"resource":"ISSUER/api","authorization_servers":["http://evil.example"]}`))
	f.Add([]byte(`{"resource":"ISSUER/api","authorization_servers":[]}`))
	f.Add([]byte(`{"resource":"ISSUER/other","authorization_servers":["https://as.example"]}`))
	f.Add([]byte(`{"resource":"ISSUER/api","authorization_servers":["https://as.example?x"],"scopes_supported":[1]}`))
	f.Add([]byte(`null`))
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		srv.serve(body)
		d := &Discoverer{HTTPClient: srv.Client(), MaxBody: 64 << 10}
		resource := srv.URL + "/api"
		m, err := d.ProtectedResource(context.Background(), resource)
		if err != nil {
			return
		}
		if m.Resource != resource || len(m.AuthorizationServers) == 0 {
			t.Fatalf("accepted %+v for %s", m, resource)
		}
		for _, as := range m.AuthorizationServers {
			if err := provider.CheckIdentifierURL("as", as); err != nil {
				t.Fatalf("accepted an authorization server URL that fails the check: %v", err)
			}
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	})
}
