// Package faulttest puts a fault-injecting HTTP proxy on loopback in front of
// a real authorization server (the embedded zitadel OP of internal/optest/zitadelop)
// and holds the tests that drive mcpauth's grant engines, discovery and
// token store through it: the fault table (faults_test.go), load tests
// (1,000 concurrent callers before login and on an expired token) and an
// opt-in soak (MCPAUTH_SOAK=10m).
//
// A Proxy forwards every request to the upstream server and rewrites the
// upstream's origin to its own in response bodies and Location headers, so
// discovery through the proxy is self-consistent (the issuer is the proxy's
// URL). Per URL path, a script of faults applies to the requests in order:
//
//	px := faulttest.Start(t, op.Issuer)
//	px.Script(op.TokenPath(), faulttest.Status(502), faulttest.Reset(), faulttest.Pass())
//	// the first token request gets a 502, the second a connection reset,
//	// the third and later ones reach the OP
//
// Faults: HTTP status pages, connection resets (before or after the
// upstream answered), requests held until the client gives up (bounded by
// Proxy.HoldBound), truncated and oversized bodies, HTML instead of JSON,
// canned JSON answers (slow_down storms, invalid_grant) and JSON rewrites
// (interval, expires_in, issuer). Requests and Reached count what arrived at
// the proxy and what was forwarded, for assertions that can fail.
//
// The proxy listens on 127.0.0.1 only. Close releases held requests and
// waits for every handler, so a test can check for leaked goroutines.
package faulttest
