// Package slack is the driver for Slack user tokens (OAuth v2 with PKCE).
//
// Slack has no device grant and publishes no RFC 8414 metadata; the driver
// serves static metadata and runs the authorization code grant with PKCE
// S256 (RFC 7636) and a loopback redirect only: http://localhost:PORT/callback
// (Describe: LoopbackHost "localhost", LoopbackPortFixed), which the app
// registers exactly. An app that enables PKCE is a public client: its code
// exchange takes no client secret, and its desktop redirects cannot request
// bot scopes, so the driver requests user scopes only. Tokens go only to
// https://slack.com/api (Describe().APIs).
//
//   - the authorization request goes to https://slack.com/oauth/v2/authorize
//     with the scopes in user_scope (comma-separated), never in scope;
//   - the code is exchanged at https://slack.com/api/oauth.v2.access, whose
//     reply nests the user token under authed_user (access_token, scope,
//     refresh_token, expires_in), scopes comma-separated;
//   - with token rotation on, tokens expire after 12 hours and are renewed
//     at oauth.v2.access with grant_type=refresh_token, whose reply carries
//     the user token at the top level (token_type "user"); the refresh
//     token used is revoked and a new one returned. A PKCE app's refresh
//     tokens expire after 30 days.
//
// Slack scope names are shared between the two token types (chat:write
// exists for bots and users); a scope is a user scope because it is sent in
// user_scope. Scopes Slack defines for bot tokens only (commands,
// incoming-webhook, chat:write.public, …) are refused with ErrBotScope.
//
// Web API refusals arrive with HTTP 200 and ok:false. Challenge reads
// error "missing_scope" with its needed and provided fields; other errors
// (invalid_auth, token_expired, …) are not scope challenges. Identity calls
// auth.test. Sign in with Slack (OpenID Connect,
// https://slack.com/.well-known/openid-configuration) is an identity-only
// flow and is not used.
//
//	d, err := slack.New(slack.Config{
//		ClientID: "1234567890.0987654321",
//		Scopes:   []string{"channels:history", "chat:write"},
//	})
//
// Driver embeds *oidc.Driver for the static metadata only: Slack's wire
// format is not RFC 6749, so every grant method is overridden, and
// StartDevice refuses (Slack has no device grant). Registration is its
// catalogue entry; options are decoded into Options.
//
// Slack documentation:
//
//   - https://api.slack.com/authentication/oauth-v2
//   - https://api.slack.com/authentication/rotation
//   - https://api.slack.com/methods/oauth.v2.access
//   - https://api.slack.com/methods/auth.test
//   - https://api.slack.com/scopes
//   - https://api.slack.com/web#responses (ok, error, needed, provided)
package slack
