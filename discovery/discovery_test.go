package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// metadataServer serves documents by path and records every request path.
type metadataServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
	docs  map[string]http.HandlerFunc
}

func newMetadataServer(t *testing.T) *metadataServer {
	m := &metadataServer{docs: map[string]http.HandlerFunc{}}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.paths = append(m.paths, r.URL.Path)
		h := m.docs[r.URL.Path]
		m.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *metadataServer) requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.paths)
}

func jsonDoc(v any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
}

func asDoc(issuer string) map[string]any {
	return map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                issuer + "/authorize",
		"token_endpoint":                        issuer + "/token",
		"device_authorization_endpoint":         issuer + "/device",
		"jwks_uri":                              issuer + "/jwks",
		"code_challenge_methods_supported":      []string{"S256"},
		"client_id_metadata_document_supported": true,
	}
}

func TestAuthServerCandidateOrder(t *testing.T) {
	tests := []struct {
		name       string
		issuerPath string
		servedAt   string // path of the one served document, relative to origin; {p} = issuer path
		wantTried  []string
	}{
		{"RFC 8414 path insertion first", "/tenant", "/.well-known/oauth-authorization-server/tenant",
			[]string{"/.well-known/oauth-authorization-server/tenant"}},
		{"then OIDC path insertion", "/tenant", "/.well-known/openid-configuration/tenant",
			[]string{"/.well-known/oauth-authorization-server/tenant", "/.well-known/openid-configuration/tenant"}},
		{"then OIDC appended (go-oidc)", "/tenant", "/tenant/.well-known/openid-configuration",
			[]string{"/.well-known/oauth-authorization-server/tenant", "/.well-known/openid-configuration/tenant", "/tenant/.well-known/openid-configuration"}},
		{"no path: OIDC tried once", "", "/.well-known/openid-configuration",
			[]string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newMetadataServer(t)
			issuer := srv.URL + tt.issuerPath
			srv.docs[tt.servedAt] = jsonDoc(asDoc(issuer))
			var d Discoverer
			m, err := d.AuthServer(context.Background(), issuer)
			if err != nil {
				t.Fatal(err)
			}
			if m.Issuer != issuer || m.DeviceAuthorizationEndpoint != issuer+"/device" || !m.ClientIDMetadataDocumentSupported {
				t.Fatalf("metadata = %+v", m)
			}
			if m.Source != srv.URL+tt.servedAt {
				t.Errorf("Source = %s, want %s", m.Source, srv.URL+tt.servedAt)
			}
			if got := srv.requests(); !slices.Equal(got, tt.wantTried) {
				t.Fatalf("requests = %v, want %v", got, tt.wantTried)
			}
			// Cached: no second round of requests.
			if _, err := d.AuthServer(context.Background(), issuer); err != nil {
				t.Fatal(err)
			}
			if got := srv.requests(); len(got) != len(tt.wantTried) {
				t.Fatalf("second lookup made requests: %v", got[len(tt.wantTried):])
			}
		})
	}
}

func TestAuthServerFallbackURL(t *testing.T) {
	// Okta custom authorization servers: the RFC 8414 document is appended.
	srv := newMetadataServer(t)
	issuer := srv.URL + "/oauth2/default"
	srv.docs["/oauth2/default/.well-known/oauth-authorization-server"] = jsonDoc(asDoc(issuer))
	var d Discoverer
	m, err := d.AuthServer(context.Background(), issuer, issuer+"/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != issuer+"/.well-known/oauth-authorization-server" {
		t.Fatalf("Source = %s", m.Source)
	}
}

func TestAuthServerErrors(t *testing.T) {
	const p8414 = "/.well-known/oauth-authorization-server"
	tests := []struct {
		name    string
		doc     func(issuer string) http.HandlerFunc
		path    string // default p8414
		wantErr error
		wantMsg string
	}{
		{name: "issuer mismatch", doc: func(iss string) http.HandlerFunc { return jsonDoc(asDoc("https://evil.example")) },
			wantErr: provider.ErrIssuerMismatch, wantMsg: `names issuer "https://evil.example"`},
		{name: "issuer mismatch via go-oidc", path: "/.well-known/openid-configuration",
			doc:     func(iss string) http.HandlerFunc { return jsonDoc(asDoc(iss + "/")) },
			wantErr: provider.ErrIssuerMismatch},
		{name: "trailing slash is a mismatch", doc: func(iss string) http.HandlerFunc { return jsonDoc(asDoc(iss + "/")) },
			wantErr: provider.ErrIssuerMismatch},
		{name: "http endpoint off loopback", doc: func(iss string) http.HandlerFunc {
			d := asDoc(iss)
			d["token_endpoint"] = "http://as.example/token"
			return jsonDoc(d)
		}, wantMsg: `token_endpoint "http://as.example/token" must use https`},
		{name: "no token endpoint", doc: func(iss string) http.HandlerFunc {
			d := asDoc(iss)
			delete(d, "token_endpoint")
			return jsonDoc(d)
		}, wantMsg: "has no token_endpoint"},
		{name: "oversized body", doc: func(iss string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"issuer":"` + iss + `","x":"`))
				w.Write([]byte(strings.Repeat("a", 2<<20)))
				w.Write([]byte(`"}`))
			}
		}, wantErr: ErrBodyTooLarge},
		{name: "oversized body via go-oidc", path: "/.well-known/openid-configuration", doc: func(iss string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(strings.Repeat(" ", 2<<20)))
			}
		}, wantErr: ErrBodyTooLarge},
		{name: "timeout", doc: func(iss string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			}
		}, wantMsg: "deadline exceeded"},
		{name: "malformed JSON", doc: func(iss string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"issuer": `))
			}
		}, wantMsg: "malformed JSON"},
		{name: "HTML instead of JSON", doc: func(iss string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte(`<html>login</html>`))
			}
		}, wantMsg: "answered text/html, not JSON"},
		{name: "server error stops discovery", doc: func(iss string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }
		}, wantMsg: "answered HTTP 502"},
		{name: "nothing served", doc: nil, wantErr: ErrNoMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newMetadataServer(t)
			path := tt.path
			if path == "" {
				path = p8414
			}
			if tt.doc != nil {
				srv.docs[path] = tt.doc(srv.URL)
			}
			// Short only for the row about a server that never answers: a
			// 2 MiB body must not run out of time on a loaded machine.
			d := Discoverer{RequestTimeout: 10 * time.Second}
			if tt.name == "timeout" {
				d.RequestTimeout = 200 * time.Millisecond
			}
			_, err := d.AuthServer(context.Background(), srv.URL)
			if err == nil {
				t.Fatal("discovery succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestAuthServerRefusesBadIssuer(t *testing.T) {
	var d Discoverer
	for _, iss := range []string{"http://as.example", "as.example", "https://as.example/?tenant=1"} {
		if _, err := d.AuthServer(context.Background(), iss); err == nil {
			t.Errorf("issuer %q accepted", iss)
		}
	}
}

func TestProtectedResource(t *testing.T) {
	srv := newMetadataServer(t)
	issuer := srv.URL + "/as"
	resource := srv.URL + "/api/v1"
	srv.docs["/.well-known/oauth-protected-resource/api/v1"] = jsonDoc(map[string]any{
		"resource": resource, "authorization_servers": []string{issuer}, "scopes_supported": []string{"read"},
	})
	srv.docs["/.well-known/oauth-authorization-server/as"] = jsonDoc(asDoc(issuer))
	var d Discoverer
	prm, as, err := d.ForResource(context.Background(), resource)
	if err != nil {
		t.Fatal(err)
	}
	if prm.AuthorizationServers[0] != issuer || as.Issuer != issuer || prm.ScopesSupported[0] != "read" {
		t.Fatalf("prm = %+v, as = %+v", prm, as)
	}

	t.Run("resource mismatch", func(t *testing.T) {
		srv.docs["/.well-known/oauth-protected-resource/other"] = jsonDoc(map[string]any{
			"resource": resource, "authorization_servers": []string{issuer},
		})
		_, err := d.ProtectedResource(context.Background(), srv.URL+"/other")
		if !errors.Is(err, provider.ErrIssuerMismatch) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no authorization servers", func(t *testing.T) {
		srv.docs["/.well-known/oauth-protected-resource/none"] = jsonDoc(map[string]any{"resource": srv.URL + "/none"})
		_, err := d.ProtectedResource(context.Background(), srv.URL+"/none")
		if err == nil || !strings.Contains(err.Error(), "no authorization_servers") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not served", func(t *testing.T) {
		_, err := d.ProtectedResource(context.Background(), srv.URL+"/missing")
		if !errors.Is(err, ErrNoMetadata) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestCandidates(t *testing.T) {
	got, err := Candidates("https://login.example.com/tenant/v2/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://login.example.com/.well-known/oauth-authorization-server/tenant/v2",
		"https://login.example.com/.well-known/openid-configuration/tenant/v2",
		"https://login.example.com/tenant/v2/.well-known/openid-configuration",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Candidates = %v, want %v", got, want)
	}
}
