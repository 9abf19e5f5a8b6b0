// Package drivertest is the contract kit every mcpauth driver must pass, in
// process and as a plugin subprocess, against a real authorization server
// (the embedded zitadel OP by default) or an issuer fake that behaves like
// the issuer it stands in for.
//
//	func TestContract(t *testing.T) {
//		drivertest.Run(t, drivertest.Suite{NewDriver: drivertest.InProcess(mydriver.Factory)})
//		drivertest.Run(t, drivertest.Suite{NewDriver: drivertest.Plugin(pluginBinary)})
//	}
//
// An issuer's quirk is tested without a fake of one's own: Suite.Quirks
// edits the OP's metadata and responses through a loopback proxy.
//
//	drivertest.Run(t, drivertest.Suite{
//		NewDriver: drivertest.InProcess(mydriver.Factory),
//		Quirks: drivertest.Quirks{Response: func(path string, status int, h http.Header, body []byte) (int, []byte) {
//			return status, bytes.ReplaceAll(body, []byte(`"expires_in":300`), []byte(`"expires_in":"300"`))
//		}},
//	})
package drivertest
