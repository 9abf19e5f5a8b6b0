// Package provider is the driver contract of mcpauth: what a driver author
// implements and a host calls. A Driver (Describe, Metadata) knows one kind
// of issuer; optional abilities are small interfaces asserted by type —
// DeviceAuthorizer, CodeExchanger, Refresher, Challenger, Identifier,
// ClientRebinder, Revoker — each method making single HTTP requests (the
// host's engines in package login own loops and timing).
//
// Also here: Description (grants, default scopes, API origins, shown-URL
// hosts, loopback rules), AuthServerMetadata and its URL rules, Token,
// DeviceAuthorization, ScopeChallenge, typed errors (OAuthError with the
// RFC 6749 §5.2 fields, sentinels matched with errors.Is, IsTransient), and
// what catalogues are made of: DriverConfig, DriverFactory, DiscoverFunc,
// Registration and DecodeOptions.
//
//	var Registration = provider.Registration{Name: "corpidp", New: func(ctx context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
//		var opts Options
//		if err := cfg.DecodeOptions("corpidp", &opts); err != nil { // unknown keys refused, with "did you mean"
//			return nil, err
//		}
//		return oidc.New(oidc.Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID})
//	}}
//
// Tokens and device codes never print: their String, Format and LogValue
// methods redact the secrets.
//
// This package imports no other package of the module but internal/suggest.
package provider
