// Package github is the driver for GitHub and GitHub Enterprise Server:
// the generic drivers/oidc driver over static endpoints, plus GitHub's
// quirks.
//
// GitHub publishes no discovery document for user login; the endpoints are
// fixed paths on the host (github.com, or a GitHub Enterprise Server host,
// whose REST API is under /api/v3):
//
//   - device flow (RFC 8628): POST /login/device/code, then
//     POST /login/oauth/access_token; needs no client secret, but the app
//     must have "Enable Device Flow" turned on (else device_flow_disabled).
//   - web flow with PKCE S256 (RFC 7636): GET /login/oauth/authorize with a
//     loopback redirect (OAuth Apps: any port on http://127.0.0.1; GitHub
//     Apps may need the registered port), then POST /login/oauth/access_token
//     with the client secret: GitHub does not distinguish public and
//     confidential clients, so the exchange needs it even with PKCE.
//     Without Config.ClientSecret the driver offers the device grant only.
//
// On the wire GitHub differs from RFC 6749: replies are form-encoded unless
// the request sends Accept: application/json; token endpoint errors arrive
// with HTTP 200 and an error field (slow_down carries the new interval);
// granted scopes are comma-separated. With token expiration on (GitHub Apps
// by default, OAuth Apps by setting) tokens expire after 8 hours and come
// with a refresh token (6 months) that rotates on every use; refreshing a
// device-flow token needs no secret. Describe().APIs are api.github.com and
// uploads.github.com, or /api/v3 and /api/uploads on Enterprise Server, whose
// documentation does not describe PKCE (the challenge is sent regardless).
//
// Step-up (Challenge) reads X-Accepted-OAuth-Scopes against X-OAuth-Scopes
// for OAuth App tokens, and X-Accepted-GitHub-Permissions on a 403
// "Resource not accessible by integration" for GitHub App tokens. Identity
// is GET /user.
//
//	d, err := github.New(github.Config{
//		ClientID:     "Iv1.0123456789abcdef",
//		ClientSecret: secret, // for PKCE; the device grant needs none
//		Scopes:       []string{"repo", "read:org"},
//	})
//
// Driver embeds *oidc.Driver over GitHub's static metadata and overrides
// the grant methods (form replies, 200-with-error, error hints), Describe,
// Challenge, Identity and WithClientID. Registration is its catalogue
// entry; options are decoded into Options, and the client secret comes
// from DriverConfig.ClientSecret (options.client_secret is still read).
//
// GitHub documentation:
//
//   - https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
//   - https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
//   - https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
//   - https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps
//   - https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
//   - https://docs.github.com/en/rest/users/users#get-the-authenticated-user
//   - https://github.blog/changelog/2025-07-14-pkce-support-for-oauth-and-github-app-authentication
package github
