// Package discovery finds an authorization server's metadata, with the
// checks that keep a login on the issuer it was configured for.
//
// Discovery, in order (Discoverer):
//
//  1. For an API URL, RFC 9728 protected-resource metadata
//     (/.well-known/oauth-protected-resource with path insertion) names the
//     authorization server.
//  2. RFC 8414 authorization-server metadata with path insertion
//     (https://host/.well-known/oauth-authorization-server/tenant).
//  3. OpenID Connect discovery with path insertion, then appended
//     (https://host/tenant/.well-known/openid-configuration, through go-oidc).
//  4. Fallback URLs a driver declares (Okta custom servers append the RFC 8414 path).
//
// Redirects are followed only on the same host and never from https to
// http; Source is the URL a document actually came from. AuthServer (over
// the process-wide Default) is the provider.DiscoverFunc every driver uses
// unless one is injected.
//
// The document's issuer must equal the issuer asked for exactly (RFC 8414
// §3.3, mix-up protection); endpoints must be https except on loopback;
// bodies are capped at 1 MiB; every request times out; results are cached per issuer.
//
//	var d discovery.Discoverer
//	meta, err := d.AuthServer(ctx, "https://login.example.com/tenant")
package discovery
