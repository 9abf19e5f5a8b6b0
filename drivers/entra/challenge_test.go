package entra_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/entra"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

func TestChallenge(t *testing.T) {
	const claims = `{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}`
	b64 := base64.StdEncoding.EncodeToString([]byte(claims))
	d, err := entra.New(entra.Config{Issuer: "https://login.microsoftonline.com/common/v2.0", ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(v string) http.Header { return http.Header{"Www-Authenticate": {v}} }
	tests := []struct {
		name       string
		resp       provider.APIResponse
		ok         bool
		scopes     []string
		permission string
		desc       string
		claims     string
	}{
		{"insufficient_scope", provider.APIResponse{StatusCode: 403, Header: hdr(`Bearer realm="", error="insufficient_scope", scope="api://my-api/Write"`)},
			true, []string{"api://my-api/Write"}, "", "", ""},
		{"claims challenge on 401", provider.APIResponse{StatusCode: 401, Header: hdr(`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="` + b64 + `"`)},
			true, nil, "", "insufficient_claims", claims},
		{"claims challenge on 403", provider.APIResponse{StatusCode: 403, Header: hdr(`Bearer error="insufficient_claims", claims="` + b64 + `"`)},
			true, nil, "", "insufficient_claims", claims},
		{"Graph Authorization_RequestDenied", provider.APIResponse{StatusCode: 403, Header: http.Header{}, Body: logintest.Canned(t, "api/graph_authorization_request_denied.json", nil)},
			true, nil, "Authorization_RequestDenied", "Graph", ""},
		{"Graph accessDenied", provider.APIResponse{StatusCode: 403, Header: http.Header{}, Body: logintest.Canned(t, "api/graph_access_denied.json", nil)},
			true, nil, "accessDenied", "Graph", ""},
		{"expired token", provider.APIResponse{StatusCode: 401, Header: hdr(`Bearer error="invalid_token", error_description="Lifetime validation failed, the token is expired."`)},
			false, nil, "", "", ""},
		{"Graph 403 on a 401", provider.APIResponse{StatusCode: 401, Header: http.Header{}, Body: logintest.Canned(t, "api/graph_access_denied.json", nil)},
			false, nil, "", "", ""},
		{"success", provider.APIResponse{StatusCode: 200, Header: hdr(`Bearer error="insufficient_claims", claims="` + b64 + `"`)},
			false, nil, "", "", claims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := d.Challenge(tt.resp)
			if ok != tt.ok {
				t.Fatalf("Challenge = %+v, %v", c, ok)
			}
			if ok {
				if strings.Join(c.Scopes, " ") != strings.Join(tt.scopes, " ") || !strings.Contains(c.Description, tt.desc) ||
					(tt.permission == "") != (len(c.Permissions) == 0) || (tt.permission != "" && !strings.Contains(c.Permissions[0], tt.permission)) {
					t.Fatalf("challenge = %+v", c)
				}
				if strings.Contains(c.Description, "Insufficient privileges") {
					t.Error("the challenge quotes the response body")
				}
			}
			got, err := entra.ParseClaimsChallenge(tt.resp)
			if err != nil || got != tt.claims {
				t.Fatalf("ParseClaimsChallenge = %q, %v; want %q", got, err, tt.claims)
			}
		})
	}
	t.Run("claims not base64 JSON", func(t *testing.T) {
		_, err := entra.ParseClaimsChallenge(provider.APIResponse{StatusCode: 401, Header: hdr(`Bearer error="insufficient_claims", claims="not json"`)})
		if err == nil {
			t.Fatal("accepted")
		}
	})
}
