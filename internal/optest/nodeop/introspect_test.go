package nodeop

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// The introspection helper sees a revocation: both tokens of a grant are
// active after login and inactive once the refresh token is revoked
// (oidc-provider revokes the whole grant with either token).
func TestRevocationIntrospection(t *testing.T) {
	op := Start(t, Options{AccessTokenTTL: 2 * time.Minute})
	ep := discoverDevice(t, op)
	meta := getJSON(t, op.Issuer+"/.well-known/oauth-authorization-server")
	revocation := str(meta, "revocation_endpoint")
	if revocation != op.Issuer+"/token/revocation" || str(meta, "introspection_endpoint") != op.Issuer+"/token/introspection" {
		t.Fatalf("revocation_endpoint %q, introspection_endpoint %q", revocation, str(meta, "introspection_endpoint"))
	}
	ctx := testCtx(t)
	da := deviceAuthorize(t, op, ep)
	if err := op.ApproveDevice(ctx, str(da, "user_code")); err != nil {
		t.Fatal(err)
	}
	status, tok := pollToken(t, op, ep, str(da, "device_code"))
	at, rt := str(tok, "access_token"), str(tok, "refresh_token")
	if status != http.StatusOK || at == "" || rt == "" {
		t.Fatalf("poll after approval: HTTP %d", status)
	}

	check := func(when, what, token string, active bool) *Introspection {
		t.Helper()
		in, err := op.Introspect(ctx, token)
		if err != nil {
			t.Fatalf("%s: introspect %s: %v", when, what, err)
		}
		if in.Active != active {
			t.Fatalf("%s: %s active = %v, want %v", when, what, in.Active, active)
		}
		return in
	}
	in := check("after login", "access token", at, true)
	if in.ClientID != op.ClientID || in.Subject != demoLogin || in.TokenType != "Bearer" || in.Expiry == 0 {
		t.Errorf("access token introspection = %+v", in)
	}
	if in := check("after login", "refresh token", rt, true); in.TokenType != "" || in.Subject != demoLogin {
		t.Errorf("refresh token introspection = %+v", in)
	}
	check("never issued", "a made-up token", "not-a-token", false)

	resp, err := http.PostForm(revocation, url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}, "client_id": {op.ClientID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: HTTP %d", resp.StatusCode)
	}
	check("after revoking the refresh token", "refresh token", rt, false)
	check("after revoking the refresh token", "access token", at, false)
	if n, err := op.Requests("/token/introspection"); err != nil || n != 5 {
		t.Errorf("Requests(/token/introspection) = %d, %v; want 5", n, err)
	}
}
