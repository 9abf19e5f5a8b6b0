// Package auth0 is the driver for Auth0 tenants: the generic drivers/oidc
// driver plus Auth0's quirks.
//
// A tenant's issuer is https://TENANT.auth0.com/ or, in a regional
// deployment, https://TENANT.REGION.auth0.com/ (us, eu, au, jp, ca, uk); a
// custom domain is https://login.example.com/. The issuer ends with a
// slash and discovery compares it exactly (RFC 8414 §3.3), so an issuer
// configured without one is given one (NormalizeIssuer); one with any
// other path is refused. What the driver adds to the generic one:
//
//   - the audience (Config.Audience, option audience) on the authorization,
//     device authorization and token requests: without it Auth0 issues an
//     opaque access token that only /userinfo accepts;
//
//   - offline_access on every login (unless Config.DisableRefresh), since
//     Auth0 issues a refresh token only for it (and only when the API has
//     "Allow Offline Access" on);
//
//   - errors that name the application setting to change when Auth0
//     refuses a grant (unauthorized_client).
//
// Auth0 answers authorization_pending with HTTP 403 and slow_down with 429,
// expired_token once and invalid_grant after; the generic driver reads the
// error code whatever the status. Refresh tokens rotate with an optional
// reuse interval (the previous token may be exchanged again within it).
//
//	d, err := auth0.New(auth0.Config{
//		Issuer:   "https://acme.eu.auth0.com/",
//		ClientID: "k8VxR2mQ7pL4sT9wZ1yB3nC6dF0gH5jA",
//		Audience: "https://api.acme.example",
//	})
//
// Auth0 documentation:
//
//   - https://auth0.com/docs/get-started/authentication-and-authorization-flow/device-authorization-flow
//   - https://auth0.com/docs/get-started/authentication-and-authorization-flow/authorization-code-flow-with-pkce
//   - https://auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation
//   - https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens
//   - https://auth0.com/docs/customize/custom-domains
package auth0
