// Package devidp is a development identity provider: the zitadel/oidc v3
// OpenID Provider (github.com/zitadel/oidc/v3/pkg/op) on the library's
// in-memory example storage (example/server/storage), with one public native
// client, one test user, a small approval UI, and an RFC 8414 document next
// to OpenID Connect discovery. It listens on loopback only. `mcpauth
// devserver` runs it; tests use it through internal/optest/zitadelop.
//
//	s, err := devidp.New(devidp.Options{AutoApprove: true})
//	if err != nil { … }
//	defer s.Close()
//	cfg := s.OAuth2Config("http://127.0.0.1:PORT/callback", "openid", "offline_access")
//	da, _ := cfg.DeviceAuth(ctx)           // approved at once (AutoApprove)
//	tok, _ := cfg.DeviceAccessToken(ctx, da)
//
// Each Server has its own storage, keys and counters. It never writes to
// stdout.
//
// # Approval
//
// By default a person approves in the browser. The authorization endpoint
// sends the browser to LoginPagePath, which shows the client and the scopes
// it asks for, with the test user's credentials filled in, and Approve and
// Deny buttons: Approve returns to the client with a code, Deny with
// error=access_denied. The device grant's verification_uri is DevicePagePath:
// enter the code (verification_uri_complete has it filled in), see what it
// asks for, Approve or Deny. Programs approve with ApproveDevice and
// DenyDevice.
//
// With Options.AutoApprove nobody is asked: a device code is approved as the
// test user as soon as it is issued, so the first poll gets the tokens; an
// authorization request is approved without showing the login page.
//
// # Endpoints
//
// The issuer is "http://127.0.0.1:PORT". zitadel serves OIDC discovery at
// /.well-known/openid-configuration; this package serves the same document
// as RFC 8414 metadata at /.well-known/oauth-authorization-server (404 with
// Options.OIDCDiscoveryOnly, as zitadel itself). Paths: /authorize (and
// /authorize/callback, where the login UI returns), /oauth/token (TokenPath),
// /device_authorization (DevicePath), /userinfo, /keys, /revoke,
// /oauth/introspect, /end_session, /healthz, /ready. This package adds
// /login/username (LoginPagePath), /device (DevicePagePath, the
// verification_uri) and /logged-out. Requests counts requests per path.
//
// Discovery also lists grants the example storage implements but the client
// may not use (implicit, client_credentials, token-exchange, jwt-bearer);
// the storage also holds the example's client_credentials service user
// "sid1" (secret "verysecret").
//
// # Client
//
// ClientID (Options.ClientID, default DefaultClientID) is a public native
// client: token_endpoint_auth_method none, grants authorization_code,
// refresh_token and device_code, response type code. It sends client_id in the form body; HTTP Basic authentication is
// refused (unauthorized_client) for the device grant, while the code and
// refresh grants ignore it. With x/oauth2 use AuthStyleInParams, as
// OAuth2Config does; AuthStyleAutoDetect still works but sends every device
// poll twice (Basic first).
//
// Redirect URIs: zitadel accepts, for a native client, any loopback
// redirect_uri (http or https; host 127.0.0.1, [::1] or localhost; any
// port) whose path and query equal those of a registered loopback URI,
// ignoring scheme, host and port (RFC 8252, section 7.3). The client
// registers http://127.0.0.1/callback, so http://127.0.0.1:<any port>/callback
// works; another path is refused with 400 at the authorization endpoint,
// without a redirect.
//
// PKCE is required for the code flow (no code_challenge: "PKCE required" at
// the token endpoint). Discovery advertises S256 only; zitadel also verifies
// "plain" if a client sends it, and answers an unknown method with an
// error redirect (invalid_request). A wrong code_verifier is invalid_grant
// and does not use up the code; a code is single-use.
//
// Scopes: every requested scope is kept and granted (custom ones such as
// "mcp:tools" too; zitadel would otherwise drop unknown scopes silently).
// A refresh token is issued only when offline_access is requested, in the
// code flow and in the device flow alike.
//
// # User
//
// Username "test-user", Password "test-password". The user's ID equals its
// username, so the subject of every token and of userinfo is Username,
// whether the user approved through the login form, the /device page or
// ApproveDevice. Userinfo returns "sub" only for tokens with the openid
// scope; profile adds preferred_username, name, given_name, family_name,
// locale; email adds email and email_verified.
//
// # Tokens
//
// Access tokens are opaque (an encrypted JWE, not a signed JWT): do not
// parse them; call /userinfo (introspection requires an authenticated
// client, which the public client is not). They live 5 minutes (the example storage's
// fixed value; expires_in is 299 after truncation) unless
// Options.AccessTokenLifetime shortens them. id_tokens are RS256 JWTs
// (1 hour, keys at /keys): the code and refresh grants always return one,
// even without the openid scope; the device grant only with openid. Refresh
// tokens are opaque UUIDs living 5 hours.
//
// Refresh rotates: every refresh_token grant answers a new access token and
// a new refresh token. The old refresh token is then invalid (invalid_grant)
// and the access token issued with it is revoked at once (userinfo answers
// 403), so a client must switch to the new pair immediately. A refresh may
// narrow the scope (scope parameter, a subset of the original) and
// otherwise keeps it; asking for more is invalid_scope.
//
// Userinfo answers 401 without a bearer token or for one it cannot decrypt,
// and 403 for an expired or revoked one. Token endpoint errors are JSON
// {"error", "error_description"} with status 400 (401 for invalid_client).
//
// # Device authorization grant
//
// The device authorization response carries device_code, user_code (8
// letters from BCDFGHJKLMNPQRSTVWXZ, as XXXX-XXXX), verification_uri
// (Issuer + "/device"), verification_uri_complete (with ?user_code=),
// expires_in (Options.DeviceLifetime, whole seconds) and interval
// (Options.PollInterval, whole seconds). Scopes are not validated there.
//
// A token poll answers, in this order of precedence: "slow_down" for the
// first Options.SlowDown polls; "access_denied" for an unknown device_code,
// a denied one (DenyDevice) or one already exchanged; tokens once approved
// (ApproveDevice or the /device page); "expired_token" after the lifetime;
// else "authorization_pending". The server does not enforce the poll interval.
// x/oauth2's DeviceAccessToken adds 5 seconds to its interval per slow_down.
// The example storage would let an approved device_code be exchanged again
// and again; this package makes it single-use. ApproveDevice refuses expired,
// denied and approved codes.
//
// Approve and deny only through ApproveDevice, DenyDevice or the /device
// page: the example storage shares the device state with the server's poll
// handler without a lock, and this package serialises the two (calling
// Storage.CompleteDeviceAuthorization directly races with a poll).
//
// # Logging
//
// Options.Logger receives this package's logs (every request at debug
// level, rejected logins, HTTP server errors); nil discards them.
// zitadel/oidc v3.52 itself logs through slog.Default (its WithLogger option
// is a no-op): every OAuth error answer, even authorization_pending, is
// logged there, which by default goes to stderr. This package never calls
// slog.SetDefault; a program that wants those lines elsewhere must set the
// default logger itself.
package devidp
