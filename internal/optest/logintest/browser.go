package logintest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

// Context is the context of one test: it ends after 30 s, so a login that
// waits for a browser or a fake that never answers fails the test instead
// of hanging it, and is cancelled when the test ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Browse does what a browser does with an authorization URL when the user
// consents at once, as issuer fakes do: it follows the redirects. It fails
// when they do not end at the loopback callback (login.DefaultCallbackPath),
// that is when the fake refused the authorization request; what the callback
// page says is the login's result, which the login reports itself.
func Browse(ctx context.Context, authURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.Request.URL.Path != login.DefaultCallbackPath {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("logintest: browser stopped at %s: HTTP %d: %s", resp.Request.URL, resp.StatusCode, b)
	}
	return nil
}

// PKCELogin logs in with d for scopes through login.Login under
// preference pref, with [Browse] as the browser, and returns what the login
// returns. The machine is a headless Linux one, so PreferAuto picks PKCE
// only when d offers no device grant. A browser stopped before the callback
// ends the login at once, its error joined to the login's. PKCELogin shows
// no device code: a login that turns to the device grant fails the test.
//
// The redirect host is the one the driver describes (LoopbackHost), as
// hosts use it; the port is picked when listening. For an issuer that pins
// the port (LoopbackPortFixed) use [PKCELoginVia] with a [FreePort].
func PKCELogin(t *testing.T, d provider.Driver, pref login.GrantPreference, scopes []string) (*provider.Token, error) {
	t.Helper()
	return PKCELoginVia(t, d, pref, scopes, login.Loopback{RedirectHost: d.Describe().LoopbackHost})
}

// PKCELoginVia is [PKCELogin] with the loopback listener lb: its
// RedirectHost and Port are used as given (a port registered with the
// fake); its Timeout and Open are set here.
func PKCELoginVia(t *testing.T, d provider.Driver, pref login.GrantPreference, scopes []string, lb login.Loopback) (*provider.Token, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(Context(t))
	defer cancel()
	browserErr := make(chan error, 1)
	lb.Timeout = 20 * time.Second
	lb.Open = func(_ context.Context, u string) error {
		go func() {
			if err := Browse(ctx, u); err != nil {
				browserErr <- err
				cancel()
			}
		}()
		return nil
	}
	login := &login.Login{
		Preference: pref,
		Env:        &login.Environment{GOOS: "linux"},
		Loopback:   lb,
		ShowDevice: func(context.Context, *provider.DeviceAuthorization) error {
			t.Error("logintest: PKCELogin: the login turned to the device grant")
			return errors.New("logintest: PKCELogin shows no device code")
		},
	}
	tok, err := login.Run(ctx, d, scopes)
	select {
	case berr := <-browserErr:
		return nil, fmt.Errorf("%w (browser: %v)", err, berr)
	default:
	}
	return tok, err
}

// FreePort returns a loopback TCP port that was free a moment ago, for a
// fake that registers http://HOST:PORT/callback before the login listens
// there (issuers that match the port).
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// AuthorizationCode runs the browser leg of a PKCE login with d and returns
// the authorization code, without a listener at redirectURI: it requests the
// authorization URL for the challenge and redirectURI and reads the code from
// the redirect's Location instead of following it. A redirect without a
// code or with another state fails the test. Tests use it to redeem one code
// in ways a login would not (a wrong verifier, a second time).
func AuthorizationCode(t *testing.T, d provider.Driver, challenge, redirectURI string) string {
	t.Helper()
	const state = "logintest-state"
	u, err := d.(provider.CodeExchanger).AuthCodeURL(Context(t), provider.AuthCodeRequest{
		State: state, CodeChallenge: challenge, RedirectURI: redirectURI,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != state {
		t.Fatalf("logintest: authorize: HTTP %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}
