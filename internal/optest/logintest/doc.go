// Package logintest is what the tests of mcpauth's issuer drivers share.
//
// An issuer fake (an httptest server that reproduces one issuer's wire
// behaviour, as in drivers/github, drivers/okta and drivers/slack) is built
// from a [Server], which counts requests by path; [Canned] replies from
// testdata/; [AuthCodes] and [Devices], the issuer's outstanding
// authorization codes and device authorizations; and [LoopbackRedirect],
// the redirect_uri a native client registers. The fake keeps only what is
// its issuer's own: endpoints, parameters, and how it words a refusal.
//
// A test logs in against the fake with [PKCELogin] ([Browse] plays the
// browser), redeems codes by hand with [AuthorizationCode], refreshes with
// [RefreshRotates], and polls the device grant with a [FastSleep], which
// records the intervals without waiting them out. [User] plays the user for
// sdk/drivertest's OP interface:
//
//	func TestLogin(t *testing.T) {
//		f := newFakeIssuer(t) // a logintest.Server answering logintest.Canned(t, "token.json", vars)
//		d := newDriver(t, f)
//		tok, err := logintest.PKCELogin(t, d, login.PreferPKCE, nil)
//		if err != nil {
//			t.Fatal(err)
//		}
//		// Fails the test unless the refresh token rotated.
//		logintest.RefreshRotates(t, d, tokenstore.Key{Issuer: f.URL}, tok)
//	}
//
// Tests against real authorization servers (those of packages nodeop and
// zitadelop, and sdk/drivertest's) poll with [ShortSleep] instead of
// FastSleep: a real server keeps its own clock, so time has to pass.
//
// PKCE is RFC 7636; the loopback redirect is RFC 8252 section 7.3; the
// device grant and its polling interval are RFC 8628 sections 3.2 to 3.5.
package logintest
