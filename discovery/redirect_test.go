package discovery

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// tlsServer is an https metadata server on loopback whose certificate also
// covers example.com; client reaches it under both names.
func tlsServer(t *testing.T, h http.Handler) *httptest.Server {
	s := httptest.NewTLSServer(h)
	t.Cleanup(s.Close)
	return s
}

// loopbackClient trusts the httptest certificate and dials every host,
// example.com included, on 127.0.0.1: a second host name without DNS.
func loopbackClient(s *httptest.Server) *http.Client {
	c := s.Client()
	tr := c.Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
	return &http.Client{Transport: tr}
}

func redirectTo(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusFound) }
}

// TestDiscoveryRedirects: a metadata document is trusted for the URL it was
// asked from (RFC 8414 §3.3, RFC 9728 §3.3); a redirect to another host or
// from https to http would let that host answer for the issuer, so it is
// refused, and a same-host redirect is followed with Source saying where
// the document came from.
func TestDiscoveryRedirects(t *testing.T) {
	evilDocs := http.NewServeMux()
	plain := httptest.NewServer(evilDocs) // http, on loopback
	t.Cleanup(plain.Close)
	other := tlsServer(t, evilDocs) // https, reached as example.com

	mux := http.NewServeMux()
	srv := tlsServer(t, mux)
	issuer := srv.URL
	tenant := srv.URL + "/tenant"
	for _, p := range []string{"/evil/as", "/evil/tenant", "/moved/as"} {
		iss := issuer
		if p == "/evil/tenant" {
			iss = tenant
		}
		evilDocs.HandleFunc(p, jsonDoc(asDoc(iss)))
		mux.HandleFunc(p, jsonDoc(asDoc(iss)))
	}
	evilDocs.HandleFunc("/evil/prm", jsonDoc(map[string]any{"resource": srv.URL + "/api", "authorization_servers": []string{"https://evil.example.com"}}))
	mux.HandleFunc("/moved/prm", jsonDoc(map[string]any{"resource": srv.URL + "/api", "authorization_servers": []string{issuer}}))
	otherURL := strings.Replace(other.URL, "127.0.0.1", "example.com", 1)

	var target string
	hop := func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusFound) }
	mux.HandleFunc(wellKnownAuthServer, hop)
	mux.HandleFunc(wellKnownResource+"/api", hop)
	mux.HandleFunc("/tenant"+wellKnownOIDC, hop) // the go-oidc candidate
	loop := 0
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		loop++
		http.Redirect(w, r, "/loop", http.StatusFound)
	})

	tests := []struct {
		name, issuer, resource, target string
		wantSource                     string // "" = must be refused
	}{
		{"RFC 8414 to http", issuer, "", plain.URL + "/evil/as", ""},
		{"RFC 8414 to another host", issuer, "", otherURL + "/evil/as", ""},
		{"RFC 8414 same host", issuer, "", srv.URL + "/moved/as", srv.URL + "/moved/as"},
		{"RFC 8414 redirect loop", issuer, "", srv.URL + "/loop", ""},
		{"OIDC via go-oidc to http", tenant, "", plain.URL + "/evil/tenant", ""},
		{"OIDC via go-oidc to another host", tenant, "", otherURL + "/evil/tenant", ""},
		{"RFC 9728 to http", "", srv.URL + "/api", plain.URL + "/evil/prm", ""},
		{"RFC 9728 to another host", "", srv.URL + "/api", otherURL + "/evil/prm", ""},
		{"RFC 9728 same host", "", srv.URL + "/api", srv.URL + "/moved/prm", srv.URL + "/moved/prm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target = tt.target
			d := &Discoverer{HTTPClient: loopbackClient(srv)}
			var source string
			var err error
			if tt.resource != "" {
				prm, perr := d.ProtectedResource(context.Background(), tt.resource)
				err = perr
				if prm != nil {
					source = prm.Source
				}
			} else {
				m, aerr := d.AuthServer(context.Background(), tt.issuer)
				err = aerr
				if m != nil {
					source = m.Source
				}
			}
			if tt.wantSource == "" {
				if err == nil {
					t.Fatalf("redirect to %s followed; metadata accepted with Source %s", tt.target, source)
				}
				if !errors.Is(err, ErrRedirectRefused) {
					t.Fatalf("error %v does not match ErrRedirectRefused", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("same-host redirect: %v", err)
			}
			if source != tt.wantSource {
				t.Errorf("Source = %s, want %s (where the document came from)", source, tt.wantSource)
			}
		})
	}
	if loop > maxRedirects+1 {
		t.Errorf("redirect loop followed %d times, want at most %d", loop, maxRedirects+1)
	}
}
