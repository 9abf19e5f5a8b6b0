// Package docstest checks that the configuration documented for the
// built-in drivers works: each driver's tests call [DriverSnippets] with the
// driver's registration, so a snippet in docs/drivers.md that stopped
// parsing, or that the driver no longer accepts, fails that driver's tests.
//
//	func TestDocsSnippets(t *testing.T) {
//		docstest.DriverSnippets(t, github.Registration)
//	}
package docstest
