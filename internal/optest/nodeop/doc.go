// Package nodeop runs a real, out-of-process OpenID Provider for tests: the
// npm package oidc-provider (pinned in the repo-root package.json), started
// with node on 127.0.0.1 by [Start] and stopped by the test's cleanup.
//
// # Setup
//
// Run `npm ci` once at the repository root. Without node_modules/oidc-provider
// [Start] fails the test, or skips it when MCPAUTH_SKIP_NPM_OP=1 is set.
// Set MCPAUTH_NODEOP_LOG=1 to see the provider's stderr on passing tests too
// (it is always shown when the test fails).
//
// # The provider
//
// The server is testdata/server.mjs. It has one public client,
// client_id "mcpauth-test" ([OP].ClientID): application_type native,
// token_endpoint_auth_method none, grant types authorization_code,
// refresh_token and urn:ietf:params:oauth:grant-type:device_code, redirect URI
// http://127.0.0.1/callback. For native clients oidc-provider ignores the port
// of a loopback redirect URI (RFC 8252 section 7.3), so
// http://127.0.0.1:<any port>/callback is accepted. Further redirect URIs can
// be registered with [Options].RedirectURIs.
//
// Facts about oidc-provider 9.13.3 as configured here, which tests may rely on:
//
//   - Discovery: the same document is served at
//     <issuer>/.well-known/openid-configuration and
//     <issuer>/.well-known/oauth-authorization-server. With an issuer path
//     (Options.IssuerPath "/tenant-a") the server also answers the RFC 8414
//     path-inserted form /.well-known/oauth-authorization-server/tenant-a and
//     the same insertion for OIDC, /.well-known/openid-configuration/tenant-a,
//     at its root; /.well-known/* at the root without the path answers 404.
//     The document has device_authorization_endpoint,
//     code_challenge_methods_supported ["S256"],
//     authorization_response_iss_parameter_supported true (RFC 9207: the
//     authorization response carries iss), revocation_endpoint and
//     introspection_endpoint, and response_types_supported ["code"].
//   - Endpoints, relative to the issuer: /auth, /token, /device/auth (device
//     authorization), /device (verification URI), /token/revocation,
//     /token/introspection, /jwks, /me.
//   - PKCE is required for every authorization request; S256 is the only
//     method (plain is rejected).
//   - The device authorization response has device_code, user_code (like
//     "BCDF-GHJK"), verification_uri, verification_uri_complete and
//     expires_in, but no interval: clients must default it to 5 s (RFC 8628
//     section 3.2). The provider never answers slow_down.
//   - An expired device code is answered with expired_token (for about 15 s
//     after expiry, while the in-memory store keeps it; invalid_grant after).
//   - A refresh token is issued with every device and auth code grant,
//     whether or not offline_access was requested ([Options].NoRefreshToken
//     turns them off). oidc-provider's own rule would need offline_access, and
//     it drops offline_access from an authorization request without
//     prompt=consent (OIDC Core section 11): the scope in the auth code
//     token response is then "openid" even when "openid offline_access" was
//     asked for. Every refresh rotates the refresh token. Using a
//     rotated (old) refresh token again fails with invalid_grant AND revokes
//     the whole grant: the newest refresh token stops working too (reuse
//     detection).
//   - The user always sees a consent page (oidc-provider requires consent
//     interaction for native clients); [OP.ApproveDevice] and [OP.Browse]
//     submit it.
//   - Revocation (RFC 7009) and introspection (RFC 7662) are on; the public
//     client may use both for its own tokens, sending client_id only.
//     Revoking either the access or the refresh token of a grant revokes
//     the whole grant: [OP.Introspect] then answers active false for both.
//     A JWT access token (see resource below) can be neither revoked nor
//     introspected: both endpoints answer unsupported_token_type.
//   - The RFC 8707 resource parameter is accepted for any absolute URI; the
//     access token is then a JWT (signed with the keys at /jwks) with that
//     aud, iss, sub "alice", client_id, and a scope listing only the requested
//     ones among mcp:tools, mcp:read, mcp:write (a refresh token and, for
//     openid, an ID token are still issued). Scopes the provider does not know
//     are dropped silently. Without resource, access tokens are opaque.
//
// # Forms
//
// The headless browser in this package ([OP.ApproveDevice], [OP.DenyDevice],
// [OP.Browse], [OP.BrowseDeny]) reads oidc-provider's own, small and known
// HTML with regular expressions over <form>, <input> and <a> tags (the
// module's go.mod does not require golang.org/x/net, and this package does not
// add it).
//
// # Request counts
//
// Every request the server receives, except those under /__test/, is counted
// by its path (no query): [OP.Requests] and [OP.RequestCounts]. Paths are as
// the client sent them, so with an issuer path the token endpoint is
// "/tenant-a/token".
package nodeop
