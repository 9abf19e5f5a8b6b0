package oidc

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/provider"
)

func TestParseWWWAuthenticate(t *testing.T) {
	type c = AuthChallenge
	p := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		values []string
		want   []AuthChallenge
	}{
		{"one Bearer", []string{`Bearer realm="api", error="insufficient_scope", scope="a b"`},
			[]c{{Scheme: "Bearer", Params: p("realm", "api", "error", "insufficient_scope", "scope", "a b")}}},
		{"Basic then Bearer in one line", []string{`Basic realm=x, Bearer error="insufficient_scope", scope="a b"`},
			[]c{{Scheme: "Basic", Params: p("realm", "x")}, {Scheme: "Bearer", Params: p("error", "insufficient_scope", "scope", "a b")}}},
		{"RFC 9110 example", []string{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`},
			[]c{{Scheme: "Newauth", Params: p("realm", "apps", "type", "1", "title", `Login to "apps"`)}, {Scheme: "Basic", Params: p("realm", "simple")}}},
		{"two lines", []string{`Basic realm="x"`, `DPoP algs="ES256", error="insufficient_scope"`},
			[]c{{Scheme: "Basic", Params: p("realm", "x")}, {Scheme: "DPoP", Params: p("algs", "ES256", "error", "insufficient_scope")}}},
		{"token68", []string{`Negotiate YIIC+w==, Bearer`},
			[]c{{Scheme: "Negotiate", Token68: "YIIC+w==", Params: p()}, {Scheme: "Bearer", Params: p()}}},
		{"bare schemes", []string{`Bearer, Basic`}, []c{{Scheme: "Bearer", Params: p()}, {Scheme: "Basic", Params: p()}}},
		{"a comma inside a quoted value", []string{`Bearer scope="a,b", error="insufficient_scope"`},
			[]c{{Scheme: "Bearer", Params: p("scope", "a,b", "error", "insufficient_scope")}}},
		{"spaces around = and case", []string{`bearer  ERROR = "insufficient_scope" ,Scope=repo`},
			[]c{{Scheme: "bearer", Params: p("error", "insufficient_scope", "scope", "repo")}}},
		{"empty list items", []string{` , ,Bearer error="x",, `}, []c{{Scheme: "Bearer", Params: p("error", "x")}}},
		{"first value wins", []string{`Bearer error="a", error="b"`}, []c{{Scheme: "Bearer", Params: p("error", "a")}}},
		{"unterminated quote", []string{`Bearer error="insuff`}, []c{{Scheme: "Bearer", Params: p("error", "insuff")}}},
		{"junk skipped to the next comma", []string{`Bearer realm="x" junk="y, Basic`, `"oops", Basic realm=z`},
			[]c{{Scheme: "Bearer", Params: p("realm", "x")}, {Scheme: "Basic", Params: p("realm", "z")}}},
		{"nothing", []string{""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseWWWAuthenticate(tt.values); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestInsufficientScopeAmongChallenges(t *testing.T) {
	h := http.Header{}
	h.Add("WWW-Authenticate", `Basic realm=x, Bearer error="insufficient_scope", scope="a b"`)
	c, ok := BearerChallenge(provider.APIResponse{StatusCode: 403, Header: h})
	if !ok || !reflect.DeepEqual(c.Scopes, []string{"a", "b"}) {
		t.Fatalf("challenge = %+v, %v", c, ok)
	}
	if _, ok := InsufficientScope(provider.APIResponse{StatusCode: 403, Header: h}, "DPoP"); ok {
		t.Error("a Bearer challenge read as DPoP")
	}
}

// FuzzWWWAuthenticate: any header parses without panic into challenges
// whose schemes are tokens and whose parameter names are lower-case.
func FuzzWWWAuthenticate(f *testing.F) {
	for _, s := range []string{
		`Basic realm=x, Bearer error="insufficient_scope", scope="a b"`,
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
		`Negotiate YIIC+w==`, `Bearer error="`, `Bearer "\`, `,,=,"`, `DPoP algs="ES256 PS256", error=use_dpop_nonce`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, c := range ParseWWWAuthenticate(strings.Split(v, "\n")) {
			if c.Scheme == "" || strings.IndexFunc(c.Scheme, func(r rune) bool { return r > 127 || !isTchar(byte(r)) }) >= 0 {
				t.Fatalf("scheme %q is not a token", c.Scheme)
			}
			for k := range c.Params {
				if k == "" || k != strings.ToLower(k) {
					t.Fatalf("param name %q", k)
				}
			}
		}
		BearerChallenge(provider.APIResponse{StatusCode: 401, Header: http.Header{"Www-Authenticate": {v}}})
	})
}

// FuzzParseTokenResponse: any body parses without panic, a token comes
// back only with an access token, and an error never quotes the secret a
// body carries.
func FuzzParseTokenResponse(f *testing.F) {
	for _, r := range logintest.UnparseableTokenReplies {
		f.Add(r.Body, r.ContentType != "application/json")
	}
	for _, s := range []string{
		`{"access_token":"a","expires_in":3600.0,"scope":"x y"}`, `{"access_token":"a","expires_in":"3600"}`,
		`{"error":"slow_down","interval":"10"}`, `{"scope":["a"]}`, `access_token=a&expires_in=1e3`, `a=1;b=2`, `<html>`,
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, body string, form bool) {
		ct := "application/json"
		if form {
			ct = "application/x-www-form-urlencoded"
		}
		tok, err := ParseTokenResponse(200, ct, []byte(body), time.Unix(0, 0))
		if (err == nil) != (tok != nil) || tok != nil && tok.AccessToken == "" {
			t.Fatalf("token %v, err %v", tok, err)
		}
		if err != nil && strings.Contains(body, logintest.Secret) && strings.Contains(err.Error(), logintest.Secret) {
			t.Fatalf("the error quotes the secret: %v", err)
		}
	})
}
