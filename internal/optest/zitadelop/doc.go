// Package zitadelop runs a real OpenID Provider inside a Go test: the
// zitadel/oidc v3 OP of internal/devidp, configured the way tests of
// discovery and of the grant engines want it: public native client
// "mcpauth-test-client", OpenID Connect discovery only (like zitadel itself:
// /.well-known/oauth-authorization-server is 404), and approval only by a
// test (ApproveDevice, DenyDevice, Browse) or the HTML pages.
//
//	o := zitadelop.Start(t, zitadelop.Options{})
//	cfg := o.OAuth2Config("http://127.0.0.1:PORT/callback", "openid", "offline_access")
//	da, _ := cfg.DeviceAuth(ctx)
//	_ = o.ApproveDevice(ctx, da.UserCode)
//	tok, _ := cfg.DeviceAccessToken(ctx, da)
//
// Start listens on 127.0.0.1:0 and closes the server when the test ends; New
// and Close do the same outside tests. Each OP has its own storage, keys and
// counters, so tests can run in parallel. The OP never writes to stdout.
//
// Everything else — endpoints, tokens, refresh rotation, the device grant's
// answers, the test user — is documented in package devidp. This package
// adds Browse, a headless browser for the authorization code flow.
package zitadelop
