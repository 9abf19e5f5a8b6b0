package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoginChecksVerificationURIComplete: verification_uri_complete is a
// link the user may just click, so the CLI checks it like the
// verification URI (the issuer's host or registrable domain, or a
// verification host) and does not show one that points elsewhere.
func TestLoginChecksVerificationURIComplete(t *testing.T) {
	for _, tt := range []struct {
		name, complete string
		shown          bool
	}{
		{"elsewhere", "https://evil.example/activate?user_code=BCDF-GHJK", false},
		{"the issuer's", "", true}, // filled in with the server's own URL below
	} {
		t.Run(tt.name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Path {
				case "/.well-known/oauth-authorization-server":
					json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "token_endpoint": srv.URL + "/token",
						"device_authorization_endpoint": srv.URL + "/device", "grant_types_supported": []string{"urn:ietf:params:oauth:grant-type:device_code"}})
				case "/device":
					complete := tt.complete
					if complete == "" {
						complete = srv.URL + "/activate?user_code=BCDF-GHJK"
					}
					json.NewEncoder(w).Encode(map[string]any{"device_code": "dc", "user_code": "BCDF-GHJK", "verification_uri": srv.URL + "/activate",
						"verification_uri_complete": complete, "expires_in": 1, "interval": 1})
				case "/token":
					w.WriteHeader(http.StatusBadRequest)
					json.NewEncoder(w).Encode(map[string]any{"error": "expired_token"})
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(srv.Close)
			t.Setenv("HOME", t.TempDir())
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			// In process: as a plugin, the host's plugin client already
			// refuses such a device authorization whole.
			cfg := writeFile(t, filepath.Join(t.TempDir(), "config.yaml"), "providers:\n  - name: idp\n    issuer: "+srv.URL+
				"\n    client_id: c\n    grant: device\n    isolation: in-process\n")
			_, out := runCLI(t, "login", "--config", cfg, "--provider", "idp", "--timeout", "20s")
			if !strings.Contains(out, "BCDF-GHJK") {
				t.Fatalf("no device login shown:\n%s", out)
			}
			if got := strings.Contains(out, "(or open "); got != tt.shown {
				t.Errorf("direct link shown = %v, want %v:\n%s", got, tt.shown, out)
			}
			if strings.Contains(out, "(or open https://evil.example") {
				t.Errorf("the link to another host was shown:\n%s", out)
			}
		})
	}
}
