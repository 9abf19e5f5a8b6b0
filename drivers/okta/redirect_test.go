package okta_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/okta"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// pkceLogin logs in through the sign-in redirect URI registered with f.
func pkceLogin(t *testing.T, f *fakeOkta, d provider.Driver) (*provider.Token, error) {
	t.Helper()
	return logintest.PKCELoginVia(t, d, login.PreferPKCE, nil, login.Loopback{RedirectHost: d.Describe().LoopbackHost, Port: f.port})
}

// TestRedirectURIExactMatch: Okta requires the redirect_uri to be one of
// the app's sign-in redirect URIs exactly, port included, so the driver
// says so (hosts then refuse a provider without loopback_port).
func TestRedirectURIExactMatch(t *testing.T) {
	f := newFakeOkta(t, nil)
	d, _ := newDriver(t, f.customIssuer(), nil)
	if !d.Describe().LoopbackPortFixed {
		t.Error("Describe().LoopbackPortFixed is false")
	}
	tests := []struct {
		name string
		lb   login.Loopback
		ok   bool
	}{
		{"the registered port", login.Loopback{Port: f.port}, true},
		{"a port picked at login", login.Loopback{}, false},
		{"localhost at the registered port", login.Loopback{RedirectHost: "localhost", Port: f.port}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := logintest.PKCELoginVia(t, d, login.PreferPKCE, nil, tt.lb)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if !tt.ok && !strings.Contains(err.Error(), "Login redirect URI") {
				t.Fatalf("err = %v, want Okta's redirect_uri refusal", err)
			}
		})
	}
}

// TestRefreshWithoutRotation: refresh-token rotation is opt-in at Okta.
// Without it a refresh returns no refresh token; the one used stays valid
// and the driver keeps it.
func TestRefreshWithoutRotation(t *testing.T) {
	f := newFakeOkta(t, func(f *fakeOkta) { f.noRotation = true })
	d, _ := newDriver(t, f.customIssuer(), nil)
	ctx := logintest.Context(t)
	tok, err := pkceLogin(t, f, d)
	if err != nil {
		t.Fatal(err)
	}
	store := &tokenstore.Store{}
	key := tokenstore.Key{Issuer: f.customIssuer(), ClientID: f.clientID, Subject: "00u1a2b3c4D5e6F7g8h9"}
	for i := range 3 {
		nt, err := d.(provider.Refresher).Refresh(ctx, tok)
		if err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
		if nt.AccessToken == tok.AccessToken || nt.RefreshToken != tok.RefreshToken {
			t.Fatalf("refresh %d: old %v new %v; want a new access token and the same refresh token", i+1, tok, nt)
		}
		store.Put(key, nt)
		tok = nt
	}
}

// TestPolicyEvaluationFailed: a custom authorization server without an
// access policy rule for the grant answers access_denied "Policy evaluation
// failed". That is a configuration error, not the user declining: the
// error names the rule to add and does not match ErrAccessDenied.
func TestPolicyEvaluationFailed(t *testing.T) {
	f := newFakeOkta(t, func(f *fakeOkta) { f.noDevicePolicyRule = true })
	d, _ := newDriver(t, f.customIssuer(), nil)
	_, _, _, err := deviceLogin(t, f, d, nil, 1)
	if !errors.Is(err, okta.ErrPolicyEvaluationFailed) || errors.Is(err, provider.ErrAccessDenied) {
		t.Fatalf("err = %v, want ErrPolicyEvaluationFailed and not ErrAccessDenied", err)
	}
	for _, s := range []string{"Access Policies", "Device Authorization", "rule"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	// A user who declines is still a decline.
	f2 := newFakeOkta(t, nil)
	d2, _ := newDriver(t, f2.customIssuer(), nil)
	da, err := d2.(provider.DeviceAuthorizer).StartDevice(logintest.Context(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	f2.devices.Deny(da.UserCode)
	if _, err := d2.(provider.DeviceAuthorizer).PollDevice(logintest.Context(t), da); !errors.Is(err, provider.ErrAccessDenied) || errors.Is(err, okta.ErrPolicyEvaluationFailed) {
		t.Fatalf("declined: err = %v", err)
	}
}
