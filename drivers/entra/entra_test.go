package entra_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/drivers/entra"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/tokenstore"
)

func newDriver(t *testing.T, f *fakeEntra, tenant string, configure func(*entra.Config)) *entra.Driver {
	t.Helper()
	cfg := entra.Config{Issuer: f.issuer(tenant), ClientID: f.clientID}
	if configure != nil {
		configure(&cfg)
	}
	d, err := entra.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// deviceLogin runs a device login through login.Login, approving after
// approveAt polls.
func deviceLogin(t *testing.T, f *fakeEntra, d provider.Driver, scopes []string, approveAt int) (*provider.Token, *provider.DeviceAuthorization, error) {
	t.Helper()
	var shown *provider.DeviceAuthorization
	l := &login.Login{
		Preference: login.PreferDevice,
		Device: login.DevicePoller{Sleep: (&logintest.FastSleep{}).Sleep, OnProgress: func(p login.DeviceProgress) {
			if p.Polls == approveAt {
				f.devices.Approve(shown.UserCode)
			}
		}},
		ShowDevice: func(_ context.Context, da *provider.DeviceAuthorization) error { shown = da; return nil },
	}
	tok, err := l.Run(logintest.Context(t), d, scopes)
	return tok, shown, err
}

func TestDiscoveryTenants(t *testing.T) {
	tests := []struct {
		tenant    string
		wrongOK   bool // a document naming another tenant's GUID issuer is accepted
		wantToken string
	}{
		{"common", false, ""},
		{"organizations", false, ""},
		{"consumers", false, entra.ConsumersTenantID},
		{homeTenant, false, homeTenant},
		{"contoso.onmicrosoft.com", true, homeTenant},
	}
	for _, tt := range tests {
		t.Run(tt.tenant, func(t *testing.T) {
			f := newFakeEntra(t, nil)
			d := newDriver(t, f, tt.tenant, nil)
			m, err := d.Metadata(logintest.Context(t))
			if err != nil {
				t.Fatal(err)
			}
			if m.Issuer != f.issuer(tt.tenant) || !slices.Equal(m.CodeChallengeMethodsSupported, []string{"S256"}) ||
				m.DeviceAuthorizationEndpoint != f.URL+"/"+tt.tenant+"/oauth2/v2.0/devicecode" {
				t.Fatalf("metadata = %+v", m)
			}
			if !m.Offers(provider.GrantPKCE) || !m.Offers(provider.GrantDevice) {
				t.Error("metadata does not offer both grants")
			}

			w := newFakeEntra(t, func(f *fakeEntra) { f.wrongIssuer = true })
			_, err = newDriver(t, w, tt.tenant, nil).Metadata(logintest.Context(t))
			if tt.wrongOK != (err == nil) || (err != nil && !errors.Is(err, provider.ErrIssuerMismatch)) {
				t.Fatalf("document naming another issuer: err = %v", err)
			}
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		f := newFakeEntra(t, nil)
		_, err := newDriver(t, f, "nosuch.example", nil).Metadata(logintest.Context(t))
		if err == nil || !strings.Contains(err.Error(), "HTTP 400") || !strings.Contains(err.Error(), "nosuch.example") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDeviceLoginAndRefresh(t *testing.T) {
	f := newFakeEntra(t, nil)
	d := newDriver(t, f, "common", nil)
	ctx := logintest.Context(t)
	tok, da, err := deviceLogin(t, f, d, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if da.VerificationURI != "https://www.microsoft.com/link" || da.VerificationURIComplete != "" {
		t.Errorf("device authorization = %+v", da)
	}
	if dev, _ := f.devices.ByUserCode(da.UserCode); dev.Scope != "openid profile User.Read offline_access" {
		t.Errorf("requested scope = %q", dev.Scope)
	}
	if tok.RefreshToken == "" || tok.IDToken == "" ||
		!slices.Equal(tok.Scopes, []string{"openid", "profile", "https://graph.microsoft.com/User.Read", "offline_access"}) {
		t.Fatalf("token = %v", tok)
	}
	if got := f.Requests("/common/oauth2/v2.0/token"); got != 3 {
		t.Errorf("token requests = %d, want 3", got)
	}
	id, err := d.Identity(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != homeTenant+"/00000000-0000-0000-66f3-3332eca7ea81" || id.DisplayName != "Megan Bowen" {
		t.Fatalf("identity = %+v", id)
	}

	// Entra rotates on every use and does not revoke the old refresh token.
	fresh := logintest.RefreshRotates(t, d, tokenstore.Key{Issuer: f.issuer("common"), ClientID: f.clientID, Subject: id.Subject}, tok)
	if form := f.lastForm(); form.Get("scope") != "openid profile https://graph.microsoft.com/User.Read offline_access" || form.Has("client_secret") {
		t.Errorf("refresh request form: scope %q, client_secret sent %v", form.Get("scope"), form.Has("client_secret"))
	}
	again, err := d.Refresh(ctx, tok)
	if err != nil {
		t.Fatalf("refresh with the older refresh token: %v", err)
	}
	if again.RefreshToken == tok.RefreshToken || again.RefreshToken == fresh.RefreshToken {
		t.Error("refresh did not return the newest refresh token")
	}
	_, err = d.Refresh(ctx, &provider.Token{RefreshToken: "0.AAAAunknown"})
	if !errors.Is(err, provider.ErrInvalidGrant) || !strings.Contains(err.Error(), "90 days") {
		t.Fatalf("unknown refresh token: err = %v", err)
	}
}

func TestDeviceErrors(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *fakeEntra, da *provider.DeviceAuthorization)
		want   error
		code   string
		hint   string
		status int
	}{
		{"authorization_pending", nil, provider.ErrAuthorizationPending, "authorization_pending", "AADSTS70016", 400},
		{"authorization_declined", func(f *fakeEntra, da *provider.DeviceAuthorization) { f.devices.Deny(da.UserCode) },
			provider.ErrAccessDenied, "access_denied", "authorization_declined: AADSTS70000", 400},
		{"bad_verification_code", func(_ *fakeEntra, da *provider.DeviceAuthorization) { da.DeviceCode = "bogus" },
			provider.ErrInvalidGrant, "invalid_grant", "bad_verification_code: AADSTS70019", 400},
		{"expired_token", func(f *fakeEntra, da *provider.DeviceAuthorization) { f.devices.Expire(da.UserCode) },
			provider.ErrExpiredToken, "expired_token", "expired", 400},
		{"public client flows off", func(f *fakeEntra, _ *provider.DeviceAuthorization) {
			f.set(func(f *fakeEntra) { f.publicFlows = false })
		},
			provider.ErrInvalidClient, "invalid_client", "Allow public client flows", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEntra(t, nil)
			d := newDriver(t, f, "organizations", nil)
			ctx := logintest.Context(t)
			da, err := d.StartDevice(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(f, da)
			}
			_, err = d.PollDevice(ctx, da)
			var oe *provider.OAuthError
			if !errors.Is(err, tt.want) || !errors.As(err, &oe) || oe.Code != tt.code || oe.StatusCode != tt.status || !strings.Contains(err.Error(), tt.hint) {
				t.Fatalf("err = %v, want %s (%v) [HTTP %d] saying %q", err, tt.code, tt.want, tt.status, tt.hint)
			}
		})
	}
	t.Run("declined ends the login", func(t *testing.T) {
		f := newFakeEntra(t, nil)
		d := newDriver(t, f, "common", nil)
		l := &login.Login{
			Preference: login.PreferDevice,
			Device:     login.DevicePoller{Sleep: (&logintest.FastSleep{}).Sleep},
			ShowDevice: func(_ context.Context, da *provider.DeviceAuthorization) error { return f.devices.Deny(da.UserCode) },
		}
		if _, err := l.Run(logintest.Context(t), d, nil); !errors.Is(err, provider.ErrAccessDenied) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestVerificationHost(t *testing.T) {
	for uri, ok := range map[string]bool{
		"https://www.microsoft.com/link":                             true,
		"https://microsoft.com/devicelogin":                          true,
		"https://login.microsoftonline.com/common/oauth2/deviceauth": true,
		"https://microsoft.com.evil.example/devicelogin":             false,
		"https://evil.example/link":                                  false,
	} {
		t.Run(uri, func(t *testing.T) {
			f := newFakeEntra(t, func(f *fakeEntra) { f.verificationURI = uri })
			_, err := newDriver(t, f, "common", nil).StartDevice(logintest.Context(t), nil)
			if ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestPKCELogin(t *testing.T) {
	f := newFakeEntra(t, nil)
	d := newDriver(t, f, homeTenant, nil)
	tok, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || f.lastForm().Has("client_secret") {
		t.Fatalf("token %v; secret sent %v", tok, f.lastForm().Has("client_secret"))
	}
	if id, err := d.Identity(logintest.Context(t), tok); err != nil || id.Subject != homeTenant+"/00000000-0000-0000-66f3-3332eca7ea81" {
		t.Fatalf("identity = %+v, %v", id, err)
	}

	t.Run("localhost redirect, any port", func(t *testing.T) {
		const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
		redirect := "http://" + entra.DefaultLoopbackHost + ":5555/callback"
		code := logintest.AuthorizationCode(t, d, logintest.S256(verifier), redirect)
		if _, err := d.Exchange(logintest.Context(t), code, "wrong-verifier-wrong-verifier-wrong-verifier-1", redirect); !errors.Is(err, provider.ErrInvalidGrant) {
			t.Fatalf("wrong verifier: err = %v", err)
		}
		code = logintest.AuthorizationCode(t, d, logintest.S256(verifier), redirect)
		if _, err := d.Exchange(logintest.Context(t), code, verifier, redirect); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("[::1] is refused", func(t *testing.T) {
		u, err := d.AuthCodeURL(logintest.Context(t), provider.AuthCodeRequest{State: "s", CodeChallenge: "c", RedirectURI: "http://[::1]:5555/callback"})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
	})
	t.Run("127.0.0.1 not in the manifest", func(t *testing.T) {
		f := newFakeEntra(t, func(f *fakeEntra) { f.no127 = true })
		// The redirect names 127.0.0.1 (not the default localhost): Entra
		// matches it only when the app manifest lists it.
		if _, err := logintest.PKCELoginVia(t, newDriver(t, f, "common", nil), login.PreferPKCE, nil, login.Loopback{RedirectHost: "127.0.0.1"}); err == nil {
			t.Fatal("login succeeded")
		}
	})
	t.Run("a secret is sent only when configured", func(t *testing.T) {
		d := newDriver(t, f, "common", func(c *entra.Config) { c.ClientSecret = "web-app-secret" })
		_, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil)
		if !errors.Is(err, provider.ErrInvalidClient) || !strings.Contains(err.Error(), "public client") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestScopes(t *testing.T) {
	tests := []struct {
		scopes []string
		ok     bool
	}{
		{[]string{"openid", "profile", "offline_access", "User.Read", "Mail.Read"}, true},
		{[]string{"User.Read", "https://graph.microsoft.com/Mail.Read"}, true},
		{[]string{"https://graph.microsoft.com/.default", "offline_access"}, true},
		{[]string{"api://my-api/Read", "api://my-api/Write", "openid"}, true},
		{[]string{"User.Read", "https://management.azure.com/user_impersonation"}, false},
		{[]string{"api://my-api/Read", "User.Read"}, false},
		{[]string{"https://graph.microsoft.com/.default", "User.Read"}, false},
	}
	for _, tt := range tests {
		if err := entra.CheckScopes(tt.scopes); (err == nil) != tt.ok {
			t.Errorf("CheckScopes(%q) = %v, want ok %v", tt.scopes, err, tt.ok)
		}
	}

	// A step-up that would span two resources fails before any request.
	f := newFakeEntra(t, nil)
	d := newDriver(t, f, "common", nil)
	two := []string{"openid", "User.Read", "https://management.azure.com/user_impersonation"}
	if _, err := d.StartDevice(logintest.Context(t), two); err == nil || !strings.Contains(err.Error(), "AADSTS28000") {
		t.Fatalf("StartDevice: err = %v", err)
	}
	if _, err := d.AuthCodeURL(logintest.Context(t), provider.AuthCodeRequest{Scopes: two}); err == nil {
		t.Fatal("AuthCodeURL accepted two resources")
	}
	if f.Requests("/common/oauth2/v2.0/devicecode") != 0 {
		t.Error("a request was made")
	}
	if _, err := entra.New(entra.Config{Issuer: f.issuer("common"), ClientID: f.clientID, Scopes: two}); err == nil {
		t.Error("New accepted default scopes of two resources")
	}
}

func TestNew(t *testing.T) {
	for name, cfg := range map[string]entra.Config{
		"no client":          {Issuer: "https://login.microsoftonline.com/common/v2.0"},
		"v1 endpoint":        {Issuer: "https://login.microsoftonline.com/common", ClientID: "c"},
		"bad tenant":         {Issuer: "https://login.microsoftonline.com/not_a_tenant/v2.0", ClientID: "c"},
		"http":               {Issuer: "http://login.microsoftonline.com/common/v2.0", ClientID: "c"},
		"resource parameter": {Issuer: "https://login.microsoftonline.com/common/v2.0", ClientID: "c", ExtraParams: map[string]string{"resource": "https://graph.microsoft.com"}},
	} {
		if _, err := entra.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	d, err := entra.New(entra.Config{Issuer: "https://login.microsoftonline.com/Contoso.onmicrosoft.com/v2.0/", ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if tn := d.Tenant(); tn.Kind != entra.TenantDomain || tn.Issuer() != "https://login.microsoftonline.com/Contoso.onmicrosoft.com/v2.0" {
		t.Fatalf("tenant = %+v", tn)
	}
	desc := d.Describe()
	if desc.Name != entra.Name || !slices.Equal(desc.DefaultScopes, []string{"openid", "profile", "User.Read", "offline_access"}) ||
		!desc.Offers(provider.GrantDevice) || !desc.Offers(provider.GrantPKCE) {
		t.Fatalf("description = %+v", desc)
	}
}

func TestIdentityIssuerChecks(t *testing.T) {
	t.Run("organizations refuses a personal account", func(t *testing.T) {
		f := newFakeEntra(t, func(f *fakeEntra) { f.personal = true })
		d := newDriver(t, f, "organizations", nil)
		tok, _, err := deviceLogin(t, f, d, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Identity(logintest.Context(t), tok); !errors.Is(err, provider.ErrIssuerMismatch) {
			t.Fatalf("err = %v", err)
		}
		// common accepts it, under the consumers tenant.
		c := newDriver(t, f, "common", nil)
		if id, err := c.Identity(logintest.Context(t), tok); err != nil || !strings.HasPrefix(id.Subject, entra.ConsumersTenantID+"/") {
			t.Fatalf("common: %+v, %v", id, err)
		}
	})
	for name, claims := range map[string]map[string]any{
		"issuer of another tenant than tid": {"iss": "ISSUER(ffffffff-9999-eeee-8888-dddd7777cccc)", "tid": homeTenant},
		"template issuer":                   {"iss": "ISSUER({tenantid})", "tid": homeTenant},
		"no tid":                            {"iss": "ISSUER(" + homeTenant + ")", "tid": ""},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeEntra(t, nil)
			d := newDriver(t, f, "common", nil)
			if iss, ok := claims["iss"].(string); ok {
				claims["iss"] = f.issuer(strings.TrimSuffix(strings.TrimPrefix(iss, "ISSUER("), ")"))
			}
			_, err := d.Identity(logintest.Context(t), &provider.Token{AccessToken: "a", IDToken: f.signIDToken(claims)})
			if err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("single tenant: exact issuer", func(t *testing.T) {
		f := newFakeEntra(t, nil)
		d := newDriver(t, f, "contoso.onmicrosoft.com", nil)
		ok := f.signIDToken(map[string]any{"iss": f.issuer(homeTenant), "tid": homeTenant})
		if _, err := d.Identity(logintest.Context(t), &provider.Token{IDToken: ok}); err != nil {
			t.Fatal(err)
		}
		other := f.signIDToken(map[string]any{"iss": f.issuer(entra.ConsumersTenantID), "tid": entra.ConsumersTenantID})
		if _, err := d.Identity(logintest.Context(t), &provider.Token{IDToken: other}); !errors.Is(err, provider.ErrIssuerMismatch) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestWithClaims(t *testing.T) {
	f := newFakeEntra(t, nil)
	d := newDriver(t, f, "common", nil)
	if _, err := d.Metadata(logintest.Context(t)); err != nil {
		t.Fatal(err)
	}
	const claims = `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	c, err := d.WithClaims(claims)
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.AuthCodeURL(logintest.Context(t), provider.AuthCodeRequest{State: "s", CodeChallenge: "c", RedirectURI: "http://localhost:1/callback"})
	if err != nil {
		t.Fatal(err)
	}
	if pu, _ := url.Parse(u); pu.Query().Get("claims") != claims {
		t.Fatalf("authorization URL claims = %q", pu.Query().Get("claims"))
	}
	if _, err := logintest.PKCELogin(t, c, login.PreferPKCE, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.claimsSeen(); len(got) != 2 || got[0] != claims || got[1] != claims { // the login's authorize and token requests
		t.Fatalf("claims seen = %q", got)
	}
	if f.Requests("/common/v2.0/.well-known/openid-configuration") != 1 {
		t.Error("the derived driver discovered again")
	}
	r, err := d.WithClientID("https://app.example.com/cimd.json")
	if err != nil || r.Describe().ClientID != "https://app.example.com/cimd.json" {
		t.Fatalf("WithClientID = %v, %v", r, err)
	}
	if _, ok := r.(*entra.Driver); !ok {
		t.Fatalf("WithClientID returned %T", r)
	}
	plain, _, err := deviceLogin(t, f, d, nil, 1)
	if err != nil || plain == nil {
		t.Fatal(err)
	}
	if got := f.claimsSeen(); len(got) != 2 {
		t.Errorf("the original driver sent claims: %q", got)
	}
}
