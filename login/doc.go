// Package login holds the host-side grant engines every driver shares; a
// driver makes single HTTP requests, these own the timing and the
// user-facing steps:
//
//   - DevicePoller runs the device authorization grant loop (RFC 8628
//     §3.4–3.5): a 5 s default interval, +5 s on slow_down (a larger
//     server-given interval wins), one token request per interval, transient
//     failures retried with backoff inside the code's lifetime, never a wait
//     past it, none after cancellation.
//   - Loopback runs the authorization code grant with PKCE S256 and a
//     loopback redirect (RFC 7636, RFC 8252 §7.3): single-use state, the RFC
//     9207 iss parameter, a redirect host per provider (127.0.0.1, localhost
//     or ::1) with the listener on loopback only.
//   - SelectGrant and Login choose between the two (auto, device, pkce).
//
// A login, with a driver d (for example from drivers/oidc):
//
//	l := &login.Login{
//		Preference: login.PreferAuto,
//		Loopback:   login.Loopback{Open: openBrowser},
//		ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error {
//			fmt.Fprintf(os.Stderr, "Open %s and enter %s\n", da.VerificationURI, da.UserCode)
//			return nil
//		},
//	}
//	tok, err := l.Run(ctx, d, []string{"openid"})
package login
