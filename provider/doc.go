// Package provider is the core model of mcpauth: the Driver interface and its
// optional capabilities, authorization-server metadata, tokens, scope
// challenges and typed errors, plus the host-side grant engines that every
// driver shares.
//
// A driver knows one kind of issuer and makes single HTTP requests; the
// engines here own the timing and the user-facing steps:
//
//   - DevicePoller runs the device authorization grant loop (RFC 8628 §3.4–3.5):
//     a 5 s default interval, +5 s on slow_down (a larger server-given interval
//     wins), exactly one token request per interval, none after cancellation.
//   - Loopback runs the authorization code grant with PKCE S256 and a loopback
//     redirect (RFC 7636, RFC 8252 §7.3), checking state and the RFC 9207 iss
//     parameter.
//   - SelectGrant and Login choose between the two (auto, device, pkce).
//   - TokenStore keeps tokens in memory only, with single-flight refresh that
//     honours refresh-token rotation (RFC 6749 §6).
//
// A login, with a driver d (for example from drivers/oidc):
//
//	login := &login.Login{
//		Preference: login.PreferAuto,
//		Loopback:   login.Loopback{Open: openBrowser},
//		ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error {
//			fmt.Fprintf(os.Stderr, "Open %s and enter %s\n", da.VerificationURI, da.UserCode)
//			return nil
//		},
//	}
//	tok, err := login.Run(ctx, d, []string{"openid"})
//
// Tokens and device codes never print: their String, Format and LogValue
// methods redact the secrets.
//
// This package imports no other package of the module.
package provider
