package entra_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/drivers/entra"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

// homeTenant is the fake work-or-school directory.
const homeTenant = "aaaabbbb-0000-cccc-1111-dddd2222eeee"

// fakeEntra reproduces the Microsoft identity platform's v2.0 endpoints on a
// loopback httptest server, as documented: per-tenant discovery documents
// whose issuer is the template .../{tenantid}/v2.0 for common and
// organizations and the tenant's GUID issuer otherwise, with no
// code_challenge_methods_supported; the device grant with Entra's error
// codes (authorization_declined, bad_verification_code) as HTTP 400 and a
// verification URI on www.microsoft.com; loopback redirects on localhost
// (any port) and, as if added to the manifest, 127.0.0.1, never [::1]; a
// public client that must not send a secret; one resource per token request
// (AADSTS28000); no resource parameter (AADSTS901002); refresh requests that
// must name the scope and return a new refresh token without revoking the
// old one; ID tokens signed RS256 whose issuer carries the user's tid.
type fakeEntra struct {
	*logintest.Server
	t *testing.T

	clientID string
	// publicFlows is "Allow public client flows"; the device grant needs it.
	publicFlows bool
	// no127 leaves http://127.0.0.1 out of the manifest's redirect URIs.
	no127 bool
	// personal: the user signing in has a personal Microsoft account.
	personal bool
	// verificationURI is what the device authorization response names.
	verificationURI string
	// wrongIssuer: every discovery document names another tenant's issuer.
	wrongIssuer bool

	key     *logintest.Signer
	devices *logintest.Devices
	codes   logintest.AuthCodes

	mu       sync.Mutex
	refresh  map[string]string // refresh token → scope; never revoked
	claims   []string          // claims parameters received
	forms    []url.Values      // token request forms
	declined map[string]bool   // user codes declined
}

func newFakeEntra(t *testing.T, configure func(*fakeEntra)) *fakeEntra {
	f := &fakeEntra{
		t: t, clientID: "00001111-aaaa-2222-bbbb-3333cccc4444", publicFlows: true,
		verificationURI: "https://www.microsoft.com/link", key: logintest.NewSigner(t), devices: logintest.NewDevices(t),
		refresh: map[string]string{}, declined: map[string]bool{},
	}
	if configure != nil {
		configure(f)
	}
	mux := http.NewServeMux()
	f.Server = logintest.NewServer(t, mux)
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/devicecode", f.deviceCode)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", f.token)
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", f.authorize)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", f.key.JWKS)
	return f
}

func (f *fakeEntra) issuer(tenant string) string { return f.URL + "/" + tenant + "/v2.0" }

func (f *fakeEntra) set(change func(*fakeEntra)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeEntra) json(w http.ResponseWriter, status int, name string, vars map[string]string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	w.Write(logintest.Canned(f.t, name, vars))
}

// fail answers an AADSTS error: invalid_client is a 401, the rest 400.
func (f *fakeEntra) fail(w http.ResponseWriter, name string) {
	status := http.StatusBadRequest
	if name == "public_client_secret" || name == "public_flows_disabled" {
		status = http.StatusUnauthorized
	}
	f.json(w, status, "errors/"+name+".json", nil)
}

func (f *fakeEntra) discovery(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	var iss string
	switch tenant {
	case "common", "organizations":
		iss = f.issuer("{tenantid}")
	case "consumers", entra.ConsumersTenantID:
		iss = f.issuer(entra.ConsumersTenantID)
	case homeTenant, "contoso.onmicrosoft.com":
		iss = f.issuer(homeTenant)
	default:
		http.Error(w, `{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant not found."}`, http.StatusBadRequest)
		return
	}
	if f.wrongIssuer {
		iss = f.issuer("ffffffff-9999-eeee-8888-dddd7777cccc")
	}
	f.json(w, http.StatusOK, "openid-configuration.json", map[string]string{"$ISSUER": iss, "$BASE": f.URL, "$TENANT": tenant})
}

// resources lists the resources of a scope string, as Entra resolves them.
func resources(scope string) []string {
	var out []string
	for _, s := range strings.Fields(scope) {
		if slices.Contains([]string{"openid", "profile", "email", "offline_access"}, s) {
			continue
		}
		r := "https://graph.microsoft.com"
		if i := strings.LastIndex(s, "/"); i >= 0 && !strings.HasPrefix(s, r+"/") {
			r = s[:i]
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// checkRequest refuses what Entra refuses on every token-issuing request.
func (f *fakeEntra) checkRequest(w http.ResponseWriter, form url.Values) bool {
	switch {
	case form.Get("client_id") != f.clientID:
		f.fail(w, "public_flows_disabled")
	case form.Has("client_secret"):
		f.fail(w, "public_client_secret")
	case form.Has("resource"):
		f.fail(w, "resource_unsupported")
	case len(resources(form.Get("scope"))) > 1:
		f.fail(w, "scope_two_resources")
	default:
		if c := form.Get("claims"); c != "" {
			f.mu.Lock()
			f.claims = append(f.claims, c)
			f.mu.Unlock()
		}
		return true
	}
	return false
}

func (f *fakeEntra) deviceCode(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if !f.checkRequest(w, r.PostForm) {
		return
	}
	dc, uc := f.devices.Start(r.PostForm.Get("scope"), r.PathValue("tenant"))
	f.json(w, http.StatusOK, "devicecode.json", map[string]string{"$DEVICE_CODE": dc, "$USER_CODE": uc, "$VERIFICATION_URI": f.verificationURI})
}

func (f *fakeEntra) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	form := r.PostForm
	f.mu.Lock()
	f.forms = append(f.forms, form)
	public := f.publicFlows
	f.mu.Unlock()
	if !f.checkRequest(w, form) {
		return
	}
	tenant := r.PathValue("tenant")
	switch form.Get("grant_type") {
	case provider.GrantTypeDeviceCode:
		if !public {
			f.fail(w, "public_flows_disabled")
			return
		}
		d, known := f.devices.Get(form.Get("device_code"))
		switch {
		case !known || d.Issuer != tenant:
			f.fail(w, "bad_verification_code")
		case d.Expired:
			f.fail(w, "expired_token")
		case d.Denied:
			f.fail(w, "authorization_declined")
		case !d.Approved:
			f.fail(w, "authorization_pending")
		default:
			f.issue(w, d.Scope)
		}
	case provider.GrantTypeAuthorizationCode:
		c, ok := f.codes.Redeem(form.Get("code"))
		switch {
		case !ok || c.Issuer != tenant:
			f.fail(w, "invalid_grant")
		case form.Get("redirect_uri") != c.RedirectURI:
			f.fail(w, "invalid_grant_redirect")
		case !c.Verifies(form.Get("code_verifier")):
			f.fail(w, "invalid_grant_verifier")
		default:
			f.issue(w, c.Scope)
		}
	case provider.GrantTypeRefreshToken:
		f.mu.Lock()
		scope, ok := f.refresh[form.Get("refresh_token")]
		f.mu.Unlock()
		switch {
		case !ok:
			f.fail(w, "invalid_grant")
		case form.Get("scope") == "":
			f.fail(w, "scope_missing")
		default:
			f.issue(w, scope)
		}
	default:
		f.fail(w, "invalid_grant")
	}
}

// issue answers a token response: scopes of the resource fully qualified,
// a refresh token for offline_access, an ID token for openid.
func (f *fakeEntra) issue(w http.ResponseWriter, scope string) {
	var granted []string
	for _, s := range strings.Fields(scope) {
		if !strings.Contains(s, "/") && !slices.Contains([]string{"openid", "profile", "email", "offline_access"}, s) {
			s = "https://graph.microsoft.com/" + s
		}
		granted = append(granted, s)
	}
	vars := map[string]string{"$ACCESS_TOKEN": "eyJ0eXAiOiJKV1QifQ." + logintest.RandomString(), "$SCOPE": strings.Join(granted, " "), "$ID_TOKEN": ""}
	if slices.Contains(granted, "openid") {
		vars["$ID_TOKEN"] = f.idToken()
	}
	name := "token_no_refresh.json"
	if slices.Contains(granted, "offline_access") {
		name = "token.json"
		vars["$REFRESH_TOKEN"] = "0.AAAA" + logintest.RandomString()
		f.mu.Lock()
		f.refresh[vars["$REFRESH_TOKEN"]] = scope
		f.mu.Unlock()
	}
	f.json(w, http.StatusOK, name, vars)
}

func (f *fakeEntra) idToken() string {
	tid := homeTenant
	if f.personal {
		tid = entra.ConsumersTenantID
	}
	return f.signIDToken(map[string]any{"iss": f.issuer(tid), "tid": tid})
}

func (f *fakeEntra) signIDToken(override map[string]any) string {
	now := time.Now().Unix()
	claims := map[string]any{
		"aud": f.clientID, "iat": now, "nbf": now, "exp": now + 3600, "ver": "2.0",
		"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "oid": "00000000-0000-0000-66f3-3332eca7ea81",
		"name": "Megan Bowen", "preferred_username": "meganb@contoso.onmicrosoft.com",
	}
	for k, v := range override {
		claims[k] = v
	}
	return f.key.IDToken(claims)
}

// redirectAllowed is Entra's reply URL matching for "Mobile and desktop
// applications": http://localhost on any port; http://127.0.0.1 on any
// port only when the manifest lists it; never [::1].
func (f *fakeEntra) redirectAllowed(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Path != login.DefaultCallbackPath {
		return nil, false
	}
	switch u.Hostname() {
	case "localhost":
		return u, true
	case "127.0.0.1":
		return u, !f.no127
	}
	return nil, false
}

// authorize is the browser leg: the fake user signs in and consents at once.
func (f *fakeEntra) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ru, ok := f.redirectAllowed(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != f.clientID:
		http.Error(w, "AADSTS700016: Application not found in the directory.", http.StatusBadRequest)
		return
	case !ok:
		http.Error(w, "AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.", http.StatusBadRequest)
		return
	}
	back := ru.Query()
	back.Set("state", q.Get("state"))
	switch {
	case q.Has("resource"):
		back.Set("error", "invalid_request")
		back.Set("error_description", "AADSTS901002: The 'resource' request parameter is not supported.")
	case len(resources(q.Get("scope"))) > 1:
		back.Set("error", "invalid_scope")
		back.Set("error_description", "AADSTS28000: the scope contains more than one resource.")
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		back.Set("error", "invalid_request")
		back.Set("error_description", "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption.")
	default:
		if c := q.Get("claims"); c != "" {
			f.mu.Lock()
			f.claims = append(f.claims, c)
			f.mu.Unlock()
		}
		back.Set("code", f.codes.Issue(logintest.AuthCode{
			RedirectURI: q.Get("redirect_uri"), Challenge: q.Get("code_challenge"), Scope: q.Get("scope"), Issuer: r.PathValue("tenant"),
		}))
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// claimsSeen returns the claims parameters the fake received.
func (f *fakeEntra) claimsSeen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.claims)
}

// lastForm returns the last token request's form.
func (f *fakeEntra) lastForm() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.forms) == 0 {
		return nil
	}
	return f.forms[len(f.forms)-1]
}
