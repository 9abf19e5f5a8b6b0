package logintest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
)

// reporter is a testing.TB that keeps what the helper reports, so a test
// can assert that a helper fails the test it was given.
type reporter struct {
	testing.TB
	reports []string
}

func (r *reporter) Error(args ...any) { r.reports = append(r.reports, fmt.Sprint(args...)) }
func (r *reporter) Errorf(format string, args ...any) {
	r.reports = append(r.reports, fmt.Sprintf(format, args...))
}

func TestCanned(t *testing.T) {
	got := logintest.Canned(t, "token.json", map[string]string{"$ACCESS_TOKEN": "at-1", "$SCOPE": "repo"})
	if want := `{"access_token": "at-1", "scope": "repo"}`; string(got) != want {
		t.Errorf("Canned = %q, want %q", got, want)
	}
	r := &reporter{}
	if got := logintest.Canned(r, "missing.json", nil); got != nil || len(r.reports) != 1 {
		t.Errorf("missing file: Canned = %q, reports %q; want nil and one report", got, r.reports)
	}
}

func TestS256(t *testing.T) {
	// RFC 7636 Appendix B.
	if got := logintest.S256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("S256 = %q", got)
	}
}

func TestRandomString(t *testing.T) {
	a, b := logintest.RandomString(), logintest.RandomString()
	if len(a) != 22 || a == b {
		t.Errorf("RandomString = %q, %q: want two different 22-character strings", a, b)
	}
}

func TestFastSleep(t *testing.T) {
	var s logintest.FastSleep
	start := time.Now()
	for _, d := range []time.Duration{5 * time.Second, 10 * time.Second} {
		if err := s.Sleep(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("FastSleep waited %v", took)
	}
	if got := s.Waited(); !slices.Equal(got, []time.Duration{5 * time.Second, 10 * time.Second}) {
		t.Errorf("Waited = %v", got)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Sleep(ctx, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context = %v", err)
	}
}

func TestShortSleep(t *testing.T) {
	var s logintest.ShortSleep
	start := time.Now()
	if err := s.Sleep(t.Context(), time.Second); err != nil {
		t.Fatal(err)
	}
	// A fiftieth of 1 s, and far less than the second itself.
	if took := time.Since(start); took < 20*time.Millisecond || took >= 900*time.Millisecond {
		t.Errorf("ShortSleep(1s) took %v, want about 20ms", took)
	}
	if got := s.Waited(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Errorf("Waited = %v", got)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := s.Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Errorf("Sleep(1h) with a 10ms context = %v after %v", err, time.Since(start))
	}
}

func TestDevices(t *testing.T) {
	s := logintest.NewDevices(t)
	dc, uc := s.Start("repo gist", "https://issuer.example")
	if d, ok := s.Get(dc); !ok || d.UserCode != uc || d.Scope != "repo gist" || d.Issuer != "https://issuer.example" || d.Approved {
		t.Fatalf("Get after Start = %+v, %v", d, ok)
	}
	for _, act := range []func(string) error{s.Approve, s.Deny, s.Expire} {
		if err := act(uc); err != nil {
			t.Fatal(err)
		}
	}
	if d, _ := s.ByUserCode(uc); !d.Approved || !d.Denied || !d.Expired {
		t.Errorf("after Approve, Deny, Expire: %+v", d)
	}
	if _, ok := s.Get("not-a-device-code"); ok {
		t.Error("Get found an unknown device code")
	}

	r := &reporter{}
	if err := logintest.NewDevices(r).Approve("NOPE1234"); err == nil || len(r.reports) != 1 {
		t.Errorf("Approve of an unknown user code = %v, reports %q; want an error, reported", err, r.reports)
	}
}

func TestAuthCodes(t *testing.T) {
	var c logintest.AuthCodes
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	code := c.Issue(logintest.AuthCode{RedirectURI: "http://127.0.0.1:1/callback", Challenge: logintest.S256(verifier), Scope: "repo"})
	a, ok := c.Redeem(code)
	if !ok || a.RedirectURI != "http://127.0.0.1:1/callback" || a.Scope != "repo" {
		t.Fatalf("Redeem = %+v, %v", a, ok)
	}
	if !a.Verifies(verifier) || a.Verifies(verifier+"x") {
		t.Error("Verifies does not tell the verifier from another")
	}
	if _, ok := c.Redeem(code); ok {
		t.Error("a code was redeemed twice")
	}
}

func TestServerCountsRequests(t *testing.T) {
	s := logintest.NewServer(t, http.NotFoundHandler())
	for range 2 {
		resp, err := http.Get(s.URL + "/token")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got, other := s.Requests("/token"), s.Requests("/other"); got != 2 || other != 0 {
		t.Errorf("Requests = %d for /token, %d for /other; want 2 and 0", got, other)
	}
}

func TestBrowse(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/callback?code=c", http.StatusFound)
	})
	mux.HandleFunc("GET /refuse", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
	})
	mux.HandleFunc("GET "+login.DefaultCallbackPath, func(w http.ResponseWriter, r *http.Request) {})
	s := logintest.NewServer(t, mux)
	if err := logintest.Browse(t.Context(), s.URL+"/authorize"); err != nil {
		t.Errorf("Browse to the callback: %v", err)
	}
	if s.Requests(login.DefaultCallbackPath) != 1 {
		t.Error("Browse did not follow the redirect to the callback")
	}
	if err := logintest.Browse(t.Context(), s.URL+"/refuse"); err == nil {
		t.Error("Browse stopped before the callback returned nil")
	}
}

func TestLoopbackRedirect(t *testing.T) {
	tests := []struct {
		redirectURI string
		ok          bool
	}{
		{"http://127.0.0.1:53682/callback", true},
		{"http://127.0.0.1/callback", true},
		{"https://127.0.0.1:53682/callback", false},
		{"http://localhost:53682/callback", false},
		{"http://127.0.0.1:53682/other", false},
		{"http://[::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.redirectURI, func(t *testing.T) {
			u, ok := logintest.LoopbackRedirect(tt.redirectURI)
			if ok != tt.ok || (ok && u.String() != tt.redirectURI) {
				t.Errorf("LoopbackRedirect = %v, %v; want ok %v", u, ok, tt.ok)
			}
		})
	}
}

func TestUser(t *testing.T) {
	devices := logintest.NewDevices(t)
	_, uc := devices.Start("", "")
	u := logintest.User{Devices: devices}
	if err := u.ApproveDevice(t.Context(), uc); err != nil {
		t.Fatal(err)
	}
	if d, _ := devices.ByUserCode(uc); !d.Approved {
		t.Errorf("ApproveDevice did not approve: %+v", d)
	}
	var none logintest.User
	if none.ApproveDevice(t.Context(), uc) == nil || none.DenyDevice(t.Context(), uc) == nil {
		t.Error("a User without Devices approved or denied a device authorization")
	}
}

func TestAuthorizeRequest(t *testing.T) {
	var codes logintest.AuthCodes
	r := httptest.NewRequest("GET", "/authorize?client_id=c&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcallback%3Fk%3Dv&state=st&code_challenge=ch&code_challenge_method=S256&scope=a+b", nil)
	a := logintest.ReadAuthorize(r)
	if !a.ClientIs("c") || a.ClientIs("d") || !a.HasS256() || a.Redirect == nil {
		t.Fatalf("request read as %+v", a)
	}
	w := httptest.NewRecorder()
	a.RedirectBack(w, r, url.Values{"code": {a.Issue(&codes, "scope", "iss")}})
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil || w.Code != http.StatusFound || loc.Host != "127.0.0.1:5" || loc.Query().Get("state") != "st" || loc.Query().Get("k") != "v" {
		t.Fatalf("redirect %d to %v", w.Code, loc)
	}
	ac, ok := codes.Redeem(loc.Query().Get("code"))
	if !ok || ac.Scope != "a b" || ac.Challenge != "ch" || ac.Issuer != "iss" {
		t.Fatalf("code for %+v, %v", ac, ok)
	}
	plain := logintest.ReadAuthorize(httptest.NewRequest("GET", "/authorize?code_challenge=ch&code_challenge_method=plain&redirect_uri=http%3A%2F%2Flocalhost%2Fcallback", nil))
	if plain.HasS256() || plain.Redirect != nil {
		t.Errorf("plain challenge or non-loopback redirect accepted: %+v", plain)
	}
}
