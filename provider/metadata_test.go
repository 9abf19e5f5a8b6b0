package provider

import (
	"errors"
	"strings"
	"testing"
)

// TestValidateRemoteIssuerNeedsHTTPSEndpoints: an http endpoint on
// loopback is for a local authorization server; a remote https issuer that
// names one would send codes and tokens to whatever listens on the user's
// machine (RFC 8414 §2, RFC 8252 §8.3).
func TestValidateRemoteIssuerNeedsHTTPSEndpoints(t *testing.T) {
	tests := []struct {
		name string
		m    AuthServerMetadata
		ok   bool
	}{
		{"remote issuer, https endpoints", AuthServerMetadata{Issuer: "https://as.example.com", TokenEndpoint: "https://as.example.com/token"}, true},
		{"remote issuer, http loopback token endpoint", AuthServerMetadata{Issuer: "https://as.example.com", TokenEndpoint: "http://127.0.0.1:8080/token"}, false},
		{"remote issuer, http localhost authorization endpoint", AuthServerMetadata{Issuer: "https://as.example.com", TokenEndpoint: "https://as.example.com/token", AuthorizationEndpoint: "http://localhost/authorize"}, false},
		{"remote issuer, http [::1] jwks", AuthServerMetadata{Issuer: "https://as.example.com", TokenEndpoint: "https://as.example.com/token", JWKSURI: "http://[::1]/jwks"}, false},
		{"remote issuer, http loopback device endpoint", AuthServerMetadata{Issuer: "https://as.example.com", TokenEndpoint: "https://as.example.com/token", DeviceAuthorizationEndpoint: "http://127.0.0.1/device"}, false},
		{"loopback issuer, http loopback endpoints", AuthServerMetadata{Issuer: "http://127.0.0.1:9000", TokenEndpoint: "http://127.0.0.1:9000/token", AuthorizationEndpoint: "http://localhost:9000/auth"}, true},
		{"https loopback issuer, http loopback endpoint", AuthServerMetadata{Issuer: "https://localhost:9000", TokenEndpoint: "http://localhost:9000/token"}, true},
		{"loopback issuer, remote http endpoint", AuthServerMetadata{Issuer: "http://127.0.0.1:9000", TokenEndpoint: "http://as.example.com/token"}, false},
		{"endpoint with credentials", AuthServerMetadata{Issuer: "https://as.example.com", TokenEndpoint: "https://u:p@as.example.com/token"}, false},
		{"issuer with query", AuthServerMetadata{Issuer: "https://as.example.com?x=1", TokenEndpoint: "https://as.example.com/token"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "provider: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestURLCheckers(t *testing.T) {
	tests := []struct {
		url                  string
		endpoint, ident, doc URLRule // "" = accepted
	}{
		{"https://as.example/token", "", "", ""},
		{"https://as.example", "", "", URLNoPath},
		{"https://as.example/", "", "", URLNoPath},
		{"http://127.0.0.1:8080/t", "", "", URLNotHTTPS},
		{"http://[::1]:9/t", "", "", URLNotHTTPS},
		{"http://localhost/t", "", "", URLNotHTTPS},
		{"http://as.example/token", URLHTTPNotLoopback, URLHTTPNotLoopback, URLNotHTTPS},
		{"http://10.0.0.1/t", URLHTTPNotLoopback, URLHTTPNotLoopback, URLNotHTTPS},
		{"ftp://as.example/x", URLNotHTTPS, URLNotHTTPS, URLNotHTTPS},
		{"/relative", URLNotAbsolute, URLNotAbsolute, URLNotAbsolute},
		{"as.example/client.json", URLNotAbsolute, URLNotAbsolute, URLNotAbsolute},
		{"https:opaque/x", URLNotAbsolute, URLNotAbsolute, URLNotAbsolute},
		{"https:///path", URLNotAbsolute, URLNotAbsolute, URLNotAbsolute},
		{"https://as.example/t#frag", URLFragment, URLFragment, URLFragment},
		{"https://as.example/t#", URLFragment, URLFragment, URLFragment},
		{"https://u:p@as.example/t", URLUserInfo, URLUserInfo, URLUserInfo},
		{"https://u@as.example/t", URLUserInfo, URLUserInfo, URLUserInfo},
		{"https://as.example/t?x=1", "", URLQuery, ""},
		{"https://as.example/t?", "", URLQuery, ""},
		{"https://as.example/a/../client.json", "", "", URLDotSegment},
		{"https://as.example/a/./client.json", "", "", URLDotSegment},
		{"https://as.example/a/%2e%2e/client.json", "", "", URLDotSegment},
		{"https://as.example/..", "", "", URLDotSegment},
		{"https://as.example/a..b/c.json", "", "", ""},
		{"https://as.example/%zz", URLNotParsed, URLNotParsed, URLNotParsed},
		{"https://[::1/x", URLNotParsed, URLNotParsed, URLNotParsed},
	}
	rule := func(err error) URLRule {
		if err == nil {
			return ""
		}
		var ue *URLError
		if !errors.As(err, &ue) {
			return "untyped: " + URLRule(err.Error())
		}
		if !strings.HasPrefix(err.Error(), "provider: ") {
			return "unprefixed: " + URLRule(err.Error())
		}
		return ue.Rule
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := rule(CheckEndpointURL("token_endpoint", tt.url)); got != tt.endpoint {
				t.Errorf("CheckEndpointURL = %q, want %q", got, tt.endpoint)
			}
			if got := rule(CheckIdentifierURL("issuer", tt.url)); got != tt.ident {
				t.Errorf("CheckIdentifierURL = %q, want %q", got, tt.ident)
			}
			if got := rule(CheckClientIDMetadataDocumentURL(tt.url)); got != tt.doc {
				t.Errorf("CheckClientIDMetadataDocumentURL = %q, want %q", got, tt.doc)
			}
		})
	}
}
