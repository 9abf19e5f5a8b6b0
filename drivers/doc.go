// Package drivers is the catalogue of the built-in drivers: Builtin lists
// their registrations (name, the issuers each claims, its factory) as plain
// data, the way x/oauth2/endpoints lists well-known issuers.
//
// A host that imports this package links every built-in driver and, when
// re-executed in driver mode, serves one of them as a plugin (see init). A
// driver plugin that serves only its own driver imports its package alone
// and stays small:
//
//	reg, ok := drivers.Lookup("github")
//	if !ok {
//		return errors.New("no github driver")
//	}
//	d, err := reg.New(ctx, provider.DriverConfig{Issuer: "https://github.com", ClientID: "Iv1.example"})
package drivers
