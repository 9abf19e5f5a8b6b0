package faulttest_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/faulttest"
	"github.com/mcpauth/mcpauth/provider"
)

// faultRow is one fault and its documented outcome. run asserts the
// outcome (counts at the proxy and the OP, errors, recorded sleeps) and
// returns what it observed, for the printed table.
type faultRow struct {
	name   string
	expect string
	opts   worldOptions
	needs  string // a feature that may not have landed yet; see needs()
	// bug names a known bug that makes the row fail: the row is skipped
	// unless MCPAUTH_KNOWN_BUGS=1, so main stays green until the fix lands.
	bug string
	run func(t *testing.T, w *world) string
}

const slowDown = `{"error":"slow_down","error_description":"` + faulttest.BodyMarker + `"}`

// TestFaultTable drives device logins, discovery and refreshes through the
// fault-injecting proxy in front of a real OP. The poller sleeps on a
// simulated clock, so the whole table runs in seconds.
func TestFaultTable(t *testing.T) {
	rows := []faultRow{
		// Device token polls.
		{
			name: "device poll 502 x3 then OK", needs: "transient-poll",
			expect: "login succeeds; 4 token requests (1 reaches the OP); waits back off",
			run: func(t *testing.T, w *world) string {
				w.px.Script(w.op.TokenPath(), faulttest.Status(502), faulttest.Status(502), faulttest.Status(502))
				_, err := w.login(t.Context())
				return wantLogin(t, w, err, 4, 1, increasing)
			},
		},
		{
			name: "device poll connection reset x2 then OK", needs: "transient-poll",
			expect: "login succeeds; 3 token requests (1 reaches the OP)",
			run: func(t *testing.T, w *world) string {
				w.px.Script(w.op.TokenPath(), faulttest.Reset(), faulttest.Reset())
				_, err := w.login(t.Context())
				return wantLogin(t, w, err, 3, 1, increasing)
			},
		},
		{
			name: "device poll held past the client timeout x1 then OK", needs: "transient-poll",
			opts:   worldOptions{clientTimeout: time.Second},
			expect: "login succeeds; 2 token requests (the held one never reaches the OP)",
			run: func(t *testing.T, w *world) string {
				w.px.Script(w.op.TokenPath(), faulttest.Hold())
				_, err := w.login(t.Context())
				return wantLogin(t, w, err, 2, 1, increasing)
			},
		},
		{
			name: "device poll answer truncated x1 (pending) then OK", needs: "transient-poll",
			expect: "login succeeds; 2 token requests, both reach the OP",
			run: func(t *testing.T, w *world) string {
				w.approveAfter = 1
				w.px.Script(w.op.TokenPath(), faulttest.Truncate())
				_, err := w.login(t.Context())
				return wantLogin(t, w, err, 2, 2, nil)
			},
		},
		{
			name:   "device poll answers HTML with 200",
			expect: "login fails at once naming text/html, body not quoted; 1 token request",
			run: func(t *testing.T, w *world) string {
				w.px.Always(w.op.TokenPath(), faulttest.HTML())
				_, err := w.login(t.Context())
				return wantFailure(t, w, err, "text/html", 1)
			},
		},
		{
			name:   "device poll answer oversized (>1 MiB)",
			expect: "login fails at once with invalid_response, body not quoted; 1 token request",
			run: func(t *testing.T, w *world) string {
				w.px.Always(w.op.TokenPath(), faulttest.Oversize())
				_, err := w.login(t.Context())
				return wantFailure(t, w, err, "invalid_response", 1)
			},
		},
		{
			name:   "slow_down x5 then OK",
			expect: "login succeeds; waits 1,6,11,16,21,26 s (+5 s per slow_down); 6 token requests, 1 reaches the OP",
			run: func(t *testing.T, w *world) string {
				w.px.Script(w.op.TokenPath(), repeat(faulttest.Answer(400, slowDown), 5)...)
				_, err := w.login(t.Context())
				obs := wantLogin(t, w, err, 6, 1, nil)
				if got := seconds(w.clk.Sleeps()); got != "1,6,11,16,21,26" {
					t.Errorf("waits %s s, want 1,6,11,16,21,26", got)
				}
				return obs
			},
		},
		{
			name:   "slow_down storm (every poll), device code lifetime 300 s",
			expect: "ErrExpiredToken; +5 s per slow_down; no token request after expires_in",
			run: func(t *testing.T, w *world) string {
				w.px.Always(w.op.TokenPath(), faulttest.Answer(400, slowDown))
				_, err := w.login(t.Context())
				if !errors.Is(err, provider.ErrExpiredToken) {
					t.Fatalf("got %v, want ErrExpiredToken", err)
				}
				checkNoMarker(t, err)
				sleeps := w.clk.Sleeps()
				var before time.Duration
				for i, d := range sleeps[:len(sleeps)-1] {
					if i > 0 && d != sleeps[i-1]+5*time.Second {
						t.Errorf("wait %d is %v after %v, want +5 s", i, d, sleeps[i-1])
					}
					before += d
				}
				polls := w.tokenRequests()
				if polls != len(sleeps)-1 || before >= 300*time.Second || w.px.Reached(w.op.TokenPath()) != 0 {
					t.Errorf("%d token requests after %d waits (%v before the last poll), %d reached the OP; want one per wait but the last, all before 300 s, none forwarded",
						polls, len(sleeps), before, w.px.Reached(w.op.TokenPath()))
				}
				return fmt.Sprintf("ErrExpiredToken after %d polls; waits %s s", polls, seconds(sleeps))
			},
		},
		{
			name:   "device response interval 0",
			expect: "the poller uses the 5 s default (first wait 5 s); login succeeds",
			run: func(t *testing.T, w *world) string {
				w.px.Script(w.op.DevicePath(), faulttest.Rewrite(func(d map[string]any) { d["interval"] = 0 }))
				_, err := w.login(t.Context())
				obs := wantLogin(t, w, err, 1, 1, nil)
				if s := w.clk.Sleeps(); s[0] != 5*time.Second {
					t.Errorf("first wait %v, want 5s", s[0])
				}
				return obs
			},
		},
		{
			name:   "device response without interval",
			expect: "the poller uses the 5 s default (first wait 5 s); login succeeds",
			run: func(t *testing.T, w *world) string {
				w.px.Script(w.op.DevicePath(), faulttest.Rewrite(func(d map[string]any) { delete(d, "interval") }))
				_, err := w.login(t.Context())
				obs := wantLogin(t, w, err, 1, 1, nil)
				if s := w.clk.Sleeps(); s[0] != 5*time.Second {
					t.Errorf("first wait %v, want 5s", s[0])
				}
				return obs
			},
		},
		{
			name: "device response interval 1 year, expires_in 300",
			expect: "no wait longer than the code's remaining lifetime; the login ends within expires_in " +
				"(the user approved, so one poll before expiry gets the token)",
			run: func(t *testing.T, w *world) string {
				w.px.Script(w.op.DevicePath(), faulttest.Rewrite(func(d map[string]any) { d["interval"] = 365 * 24 * 3600 }))
				_, err := w.login(t.Context())
				sleeps := w.clk.Sleeps()
				for _, d := range sleeps {
					if d > 300*time.Second {
						t.Errorf("waited %v, longer than the device code's 300 s lifetime", d)
					}
				}
				if err != nil {
					t.Errorf("login: %v, want success: the user approved before the code expired", err)
				}
				return fmt.Sprintf("err=%v; waits %s s; %d token requests", errText(err), seconds(sleeps), w.tokenRequests())
			},
		},
		{
			name:   "device response expires_in 1",
			expect: "ErrExpiredToken without hanging; at most 1 token request",
			run: func(t *testing.T, w *world) string {
				w.px.Script(w.op.DevicePath(), faulttest.Rewrite(func(d map[string]any) { d["expires_in"] = 1 }))
				_, err := w.login(t.Context())
				if !errors.Is(err, provider.ErrExpiredToken) {
					t.Fatalf("got %v, want ErrExpiredToken", err)
				}
				if n := w.tokenRequests(); n > 1 {
					t.Errorf("%d token requests, want at most 1", n)
				}
				return fmt.Sprintf("ErrExpiredToken; %d token requests; waits %s s", w.tokenRequests(), seconds(w.clk.Sleeps()))
			},
		},
		{
			name: "token endpoint never answers (device polls)", needs: "transient-poll",
			opts:   worldOptions{clientTimeout: time.Second},
			expect: "ErrExpiredToken (carrying the timeout) at the end of the 300 s lifetime; each request bounded by the 1 s client timeout",
			run: func(t *testing.T, w *world) string {
				w.px.Always(w.op.TokenPath(), faulttest.Hold())
				start := time.Now()
				_, err := w.login(t.Context())
				elapsed := time.Since(start)
				var ne net.Error
				if !errors.Is(err, provider.ErrExpiredToken) || !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("got %v, want ErrExpiredToken wrapping a timeout", err)
				}
				n := w.tokenRequests()
				if n < 2 || n > 20 || w.px.Reached(w.op.TokenPath()) != 0 {
					t.Errorf("%d token requests (%d forwarded), want a few, none forwarded", n, w.px.Reached(w.op.TokenPath()))
				}
				if elapsed > 45*time.Second { // generous: n requests of 1 s each
					t.Errorf("took %v", elapsed)
				}
				return fmt.Sprintf("%s; %d held requests; waits %s s; %v real", errText(err), n, seconds(w.clk.Sleeps()), elapsed.Round(time.Second))
			},
		},
		{
			name:   "device_authorization answers 503",
			expect: "login fails at once naming HTTP 503; no token request",
			run: func(t *testing.T, w *world) string {
				w.px.Always(w.op.DevicePath(), faulttest.Status(503))
				_, err := w.login(t.Context())
				return wantFailure(t, w, err, "503", 0)
			},
		},

		// Discovery.
		{
			name:   "oversized metadata (>1 MiB)",
			expect: "discovery.ErrBodyTooLarge, body not quoted",
			run: func(t *testing.T, w *world) string {
				w.px.Always(oidcPath, faulttest.Oversize())
				_, err := w.drv.Metadata(t.Context())
				if !errors.Is(err, discovery.ErrBodyTooLarge) {
					t.Errorf("got %v, want discovery.ErrBodyTooLarge", err)
				}
				checkNoMarker(t, err)
				return errText(err)
			},
		},
		{
			name:   "HTML metadata with 200 (OpenID path)",
			expect: "an error naming text/html, body not quoted",
			run: func(t *testing.T, w *world) string {
				w.px.Always(oidcPath, faulttest.HTML())
				_, err := w.drv.Metadata(t.Context())
				return wantMetadataError(t, err, "text/html")
			},
		},
		{
			name:   "HTML with 200 at the RFC 8414 path (a portal instead of 404)",
			expect: "an error naming text/html, body not quoted",
			run: func(t *testing.T, w *world) string {
				w.px.Always(rfc8414Path, faulttest.HTML())
				_, err := w.drv.Metadata(t.Context())
				return wantMetadataError(t, err, "text/html")
			},
		},
		{
			name:   "truncated metadata, then OK",
			expect: "the first discovery fails; the failure is not cached: the next one fetches again and succeeds",
			run: func(t *testing.T, w *world) string {
				w.px.Script(oidcPath, faulttest.Truncate())
				_, err1 := w.drv.Metadata(t.Context())
				if err1 == nil {
					t.Fatal("discovery of a truncated document succeeded")
				}
				m, err := w.drv.Metadata(t.Context())
				if err != nil || m.Issuer != w.px.URL {
					t.Fatalf("second discovery: %v, %+v", err, m)
				}
				if n := w.px.Requests(oidcPath); n != 2 {
					t.Errorf("%d metadata requests, want 2", n)
				}
				return "1st: " + errText(err1) + "; 2nd: ok"
			},
		},
		{
			name:   "metadata held past the client timeout",
			opts:   worldOptions{clientTimeout: time.Second},
			expect: "a timeout error, well before the proxy's 10 s hold bound; 1 request",
			run: func(t *testing.T, w *world) string {
				w.px.Always(oidcPath, faulttest.Hold())
				start := time.Now()
				_, err := w.drv.Metadata(t.Context())
				elapsed := time.Since(start)
				if err == nil || !(strings.Contains(err.Error(), "deadline") || strings.Contains(err.Error(), "Timeout")) {
					t.Errorf("got %v, want a timeout", err)
				}
				if elapsed >= faulttest.DefaultHoldBound {
					t.Errorf("took %v: the client timeout did not bound the request", elapsed)
				}
				if n := w.px.Requests(oidcPath); n != 1 {
					t.Errorf("%d metadata requests, want 1", n)
				}
				return errText(err)
			},
		},
		{
			name:   "issuer changes between discovery calls",
			expect: "a fresh discovery is refused with ErrIssuerMismatch; the cached metadata keeps working (no refetch)",
			run: func(t *testing.T, w *world) string {
				if _, err := w.drv.Metadata(t.Context()); err != nil {
					t.Fatal(err)
				}
				w.px.Always(oidcPath, faulttest.Rewrite(func(d map[string]any) { d["issuer"] = "http://127.0.0.1:1" }))
				_, err := w.newDriver(&discovery.Discoverer{HTTPClient: w.hc}).Metadata(t.Context())
				if !errors.Is(err, provider.ErrIssuerMismatch) {
					t.Errorf("got %v, want ErrIssuerMismatch", err)
				}
				if _, err := w.login(t.Context()); err != nil {
					t.Errorf("login with the cached metadata: %v", err)
				}
				if _, err := w.newDriver(w.disc).Metadata(t.Context()); err != nil {
					t.Errorf("a new driver on the same Discoverer: %v", err)
				}
				if n := w.px.Requests(oidcPath); n != 2 {
					t.Errorf("%d metadata requests, want 2 (one per Discoverer)", n)
				}
				return errText(err)
			},
		},

		// Refresh.
		{
			name: "refresh: connection reset x1", needs: "transient-refresh",
			expect: "the call fails, the token is kept (no ErrRefreshFailed); the next call refreshes: 1 refresh at the OP",
			run: func(t *testing.T, w *world) string {
				return transientRefresh(t, w, faulttest.Reset())
			},
		},
		{
			name: "refresh: 502 x1", needs: "transient-refresh",
			expect: "the call fails, the token is kept; the next call refreshes: 1 refresh at the OP",
			run: func(t *testing.T, w *world) string {
				return transientRefresh(t, w, faulttest.Status(502))
			},
		},
		{
			name: "refresh: token endpoint never answers", needs: "transient-refresh",
			opts:   worldOptions{clientTimeout: time.Second},
			expect: "the call fails within the client timeout (well before the 10 s hold bound), the token is kept; once the endpoint answers the next call refreshes",
			run: func(t *testing.T, w *world) string {
				return transientRefresh(t, w, faulttest.Hold())
			},
		},
		{
			name: "refresh: answer lost after the OP rotated the refresh token", needs: "transient-refresh",
			expect: "1st call fails transiently (token kept); 2nd gets invalid_grant (rotated) → ErrRefreshFailed, token dropped; 3rd ErrNoToken; 2 refreshes at the OP",
			run: func(t *testing.T, w *world) string {
				ctx := t.Context()
				w.loggedIn(ctx)
				w.clk.Advance(time.Hour)
				base := w.op.Requests(w.op.TokenPath())
				w.px.Script(w.op.TokenPath(), faulttest.ResetAfterUpstream())
				_, err1 := w.store.Token(ctx, w.key, w.drv)
				if _, kept := w.store.Peek(w.key); err1 == nil || !kept {
					t.Fatalf("1st: %v, kept %v; want an error and the token kept", err1, kept)
				}
				_, err2 := w.store.Token(ctx, w.key, w.drv)
				if !errors.Is(err2, provider.ErrRefreshFailed) || !errors.Is(err2, provider.ErrInvalidGrant) {
					t.Errorf("2nd: %v, want ErrRefreshFailed wrapping invalid_grant", err2)
				}
				_, err3 := w.store.Token(ctx, w.key, w.drv)
				if !errors.Is(err3, provider.ErrNoToken) {
					t.Errorf("3rd: %v, want ErrNoToken", err3)
				}
				if n := w.op.Requests(w.op.TokenPath()) - base; n != 2 {
					t.Errorf("%d refreshes at the OP, want 2", n)
				}
				return "2nd: " + errText(err2) + "; 3rd: " + errText(err3)
			},
		},
		{
			name:   "refresh: invalid_grant",
			expect: "ErrRefreshFailed, the token is dropped, the next call gets ErrNoToken (login again); 0 refreshes at the OP",
			run: func(t *testing.T, w *world) string {
				ctx := t.Context()
				w.loggedIn(ctx)
				w.clk.Advance(time.Hour)
				base := w.op.Requests(w.op.TokenPath())
				w.px.Script(w.op.TokenPath(), faulttest.Answer(400, `{"error":"invalid_grant"}`))
				_, err := w.store.Token(ctx, w.key, w.drv)
				if !errors.Is(err, provider.ErrRefreshFailed) || !errors.Is(err, provider.ErrInvalidGrant) {
					t.Errorf("got %v, want ErrRefreshFailed wrapping invalid_grant", err)
				}
				if _, err := w.store.Token(ctx, w.key, w.drv); !errors.Is(err, provider.ErrNoToken) {
					t.Errorf("next call: %v, want ErrNoToken", err)
				}
				if n := w.op.Requests(w.op.TokenPath()) - base; n != 0 {
					t.Errorf("%d refreshes at the OP, want 0", n)
				}
				return errText(err)
			},
		},

		// Clock skew.
		{
			name:   "clock skew +10 min on every injected clock (driver, poller, store)",
			opts:   worldOptions{skew: 10 * time.Minute},
			expect: "login succeeds; the token is valid on that clock (0 refreshes)",
			run: func(t *testing.T, w *world) string {
				ctx := t.Context()
				tok, err := w.login(ctx)
				if err != nil {
					t.Fatalf("login: %v (%d token requests)", err, w.tokenRequests())
				}
				w.store.Put(w.key, tok)
				base := w.tokenRequests()
				if _, err := w.store.Token(ctx, w.key, w.drv); err != nil {
					t.Errorf("Token: %v", err)
				}
				if n := w.tokenRequests() - base; n != 0 {
					t.Errorf("%d refreshes, want 0", n)
				}
				return "ok"
			},
		},
		{
			name:   "store clock 1 h ahead of the driver's",
			expect: "every call sees an expired token and refreshes exactly once (3 calls → 3 refreshes at the OP), all succeed, no loop",
			run: func(t *testing.T, w *world) string {
				ctx := t.Context()
				w.loggedIn(ctx)
				w.store.Now = func() time.Time { return w.clk.Now().Add(time.Hour) }
				base := w.op.Requests(w.op.TokenPath())
				for i := range 3 {
					if _, err := w.store.Token(ctx, w.key, w.drv); err != nil {
						t.Fatalf("call %d: %v", i, err)
					}
				}
				n := w.op.Requests(w.op.TokenPath()) - base
				if n != 3 {
					t.Errorf("%d refreshes at the OP, want 3", n)
				}
				return fmt.Sprintf("3 calls, %d refreshes", n)
			},
		},
	}

	knownBugs := os.Getenv("MCPAUTH_KNOWN_BUGS") == "1"
	var table strings.Builder
	for _, r := range rows {
		var observed string
		t.Run(r.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			defer func() {
				status := "PASS"
				switch {
				case t.Failed():
					status = "FAIL"
				case t.Skipped():
					status = "SKIP"
				}
				fmt.Fprintf(&table, "%-4s | %s\n     | expected: %s\n     | observed: %s\n", status, r.name, r.expect, observed)
			}()
			defer goleak.VerifyNone(t, ignore)
			observed = "skipped: needs " + r.needs
			needs(t, r.needs)
			if r.bug != "" && !knownBugs {
				observed = "skipped, known bug: " + r.bug
				t.Skip("known bug: " + r.bug + " (MCPAUTH_KNOWN_BUGS=1 runs it)")
			}
			observed = runRow(t, r)
		})
	}
	t.Logf("fault table:\n%s", table.String())
}

// runRow runs r in its own world; the world is closed (OP, proxy, idle
// connections) before the leak check.
func runRow(t *testing.T, r faultRow) (observed string) {
	observed = "(row stopped early)"
	t.Run("run", func(t *testing.T) {
		w := newWorld(t, r.opts)
		observed = r.run(t, w)
	})
	if t.Failed() {
		observed += " [see the failures above]"
	}
	return observed
}

func repeat(f faulttest.Fault, n int) []faulttest.Fault {
	out := make([]faulttest.Fault, n)
	for i := range out {
		out[i] = f
	}
	return out
}

// increasing checks that the waits after the first grew (a backoff).
func increasing(t *testing.T, sleeps []time.Duration) {
	for i := 2; i < len(sleeps); i++ {
		if sleeps[i] <= sleeps[i-1] {
			t.Errorf("waits %s s do not back off", seconds(sleeps))
			return
		}
	}
}

// wantLogin checks a successful login with requests token requests at the
// proxy, reached of them at the OP.
func wantLogin(t *testing.T, w *world, err error, requests, reached int, checkSleeps func(*testing.T, []time.Duration)) string {
	t.Helper()
	if err != nil {
		t.Fatalf("login: %v (%d token requests, waits %s s)", err, w.tokenRequests(), seconds(w.clk.Sleeps()))
	}
	if n, r := w.tokenRequests(), w.op.Requests(w.op.TokenPath()); n != requests || r != reached {
		t.Errorf("%d token requests at the proxy, %d at the OP; want %d and %d", n, r, requests, reached)
	}
	if checkSleeps != nil {
		checkSleeps(t, w.clk.Sleeps())
	}
	return fmt.Sprintf("ok; %d token requests (%d at the OP); waits %s s", w.tokenRequests(), w.op.Requests(w.op.TokenPath()), seconds(w.clk.Sleeps()))
}

// wantFailure checks a failed login whose error names want, after
// requests token requests.
func wantFailure(t *testing.T, w *world, err error, want string, requests int) string {
	t.Helper()
	if err == nil {
		t.Fatal("login succeeded")
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
	checkNoMarker(t, err)
	if n := w.tokenRequests(); n != requests {
		t.Errorf("%d token requests, want %d", n, requests)
	}
	return fmt.Sprintf("%s; %d token requests", errText(err), w.tokenRequests())
}

func wantMetadataError(t *testing.T, err error, want string) string {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error naming %s", err, want)
	}
	checkNoMarker(t, err)
	return errText(err)
}

// transientRefresh: a login, an expired token, one refresh that meets f,
// then a refresh that passes.
func transientRefresh(t *testing.T, w *world, f faulttest.Fault) string {
	ctx := t.Context()
	old := w.loggedIn(ctx)
	w.clk.Advance(time.Hour)
	base := w.op.Requests(w.op.TokenPath())
	w.px.Script(w.op.TokenPath(), f)
	start := time.Now()
	_, err1 := w.store.Token(ctx, w.key, w.drv)
	elapsed := time.Since(start)
	if err1 == nil || errors.Is(err1, provider.ErrRefreshFailed) {
		t.Errorf("1st call: %v, want a transient error, not ErrRefreshFailed", err1)
	}
	if elapsed >= faulttest.DefaultHoldBound {
		t.Errorf("1st call took %v: not bounded by the client timeout", elapsed)
	}
	if kept, ok := w.store.Peek(w.key); !ok || kept != old {
		t.Fatalf("token not kept after a transient refresh failure")
	}
	tok, err := w.store.Token(ctx, w.key, w.drv)
	if err != nil || tok.AccessToken == old.AccessToken {
		t.Fatalf("2nd call: %v (new token: %v)", err, err == nil && tok.AccessToken != old.AccessToken)
	}
	if n := w.op.Requests(w.op.TokenPath()) - base; n != 1 {
		t.Errorf("%d refreshes at the OP, want 1", n)
	}
	return fmt.Sprintf("1st: %s; 2nd: refreshed; 1 refresh at the OP", errText(err1))
}

// errText is an error's text for the table, shortened.
func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
