// Package okta is the driver for Okta authorization servers: the generic
// drivers/oidc driver plus Okta's quirks.
//
// Okta runs an org authorization server (issuer https://DOMAIN, endpoints
// under /oauth2/v1) and custom ones (issuer https://DOMAIN/oauth2/{id},
// such as /oauth2/default). A custom server's metadata is served at the
// RFC 8414 §3.1 path-insertion URL, which Okta calls the standard, and at
// the legacy form with the well-known path appended to the issuer;
// discovery tries path insertion first and DiscoveryFallbacks lists the
// legacy URLs. Config.MetadataClientID adds ?client_id= for issuers Okta
// formats per client. Okta matches redirect URIs exactly, port included
// (Describe().LoopbackPortFixed). A refresh without a new refresh token
// (rotation off) keeps the one used. access_denied "Policy evaluation
// failed" is ErrPolicyEvaluationFailed, a configuration error naming the
// access policy rule to add, never ErrAccessDenied.
//
// What the driver adds to the generic one:
//
//   - offline_access on every login (unless Config.DisableRefresh), since
//     Okta issues a refresh token only for it;
//
//   - errors that name the app setting to change: unauthorized_client and
//     invalid_client on the device grant mean the app is not a Native app
//     with Grant type → Device Authorization checked;
//
//   - DPoP (RFC 9449) on token requests, for apps that require it: an ES256
//     key per driver instance, in memory only; a proof JWT (typ dpop+jwt,
//     jwk, htm, htu, iat, jti, nonce) on each token request; the
//     use_dpop_nonce retry (§8). Proofs for resource requests (ath, §4.3)
//     are the host's business and are not made here;
//
//   - insufficient_scope challenges in the DPoP scheme as well as Bearer.
//
// Given only an issuer, the driver discovers by itself, with Okta's
// appended well-known paths (DiscoveryFallbacks) after the standard ones:
//
//	d, err := okta.New(okta.Config{
//		Issuer:   "https://acme.okta.com/oauth2/default",
//		ClientID: "0oa1b2c3d4e5f6g7h8i9",
//	})
//
// Driver embeds *oidc.Driver and overrides the grant methods (scopes,
// DPoP, error hints), Metadata, Challenge (Bearer or DPoP) and
// WithClientID; Identity is the generic driver's. Registration is its
// catalogue entry; options are decoded into Options.
//
// Okta documentation:
//
//   - https://developer.okta.com/docs/concepts/auth-servers/
//   - https://developer.okta.com/docs/api/openapi/okta-oauth/guides/overview/
//   - https://developer.okta.com/docs/guides/device-authorization-grant/main/
//   - https://developer.okta.com/docs/guides/implement-grant-type/authcodepkce/main/
//   - https://developer.okta.com/docs/guides/refresh-tokens/main/
//   - https://developer.okta.com/docs/guides/dpop/nonoktaresourceserver/main/
//   - RFC 9449 (DPoP): https://www.rfc-editor.org/rfc/rfc9449
package okta
