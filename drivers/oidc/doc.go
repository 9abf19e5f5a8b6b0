// Package oidc is the generic driver for any authorization server that
// publishes RFC 8414 or OpenID Connect metadata. Issuer drivers (GitHub,
// Slack, Okta) build on it and add only their quirks.
//
// It runs the device grant (RFC 8628, one request per call: the host's
// login.DevicePoller owns the loop), the authorization code grant with
// PKCE S256 (RFC 7636), refresh (RFC 6749 §6), reads RFC 6750 §3
// insufficient_scope challenges, and identifies the user from a verified ID
// token or the userinfo endpoint (go-oidc), and revokes tokens at the
// revocation_endpoint (RFC 7009). Token plumbing is x/oauth2,
// except the single device token request, which x/oauth2 only offers inside
// its own polling loop.
//
// Given only an issuer, the driver discovers its metadata at the first
// login (discovery.AuthServer), like go-oidc's NewProvider; Config.Discover
// replaces that, Config.Metadata skips it. Issuer drivers embed *Driver and
// override what differs:
//
//	d, err := oidc.New(oidc.Config{
//		Issuer:   "https://login.example.com",
//		ClientID: "my-native-app",
//	})
package oidc
