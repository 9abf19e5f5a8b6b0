package logintest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Canned returns the body stored in testdata/name (relative to the test's
// package directory), trimmed, with every key of vars replaced by its value
// ("$ACCESS_TOKEN" → a fresh token). A missing file fails the test with
// Errorf and returns nil: fakes call Canned from their server's goroutines,
// where t.FailNow must not be called.
func Canned(t testing.TB, name string, vars map[string]string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Errorf("logintest: testdata: %v", err)
		return nil
	}
	s := strings.TrimSpace(string(b))
	for k, v := range vars {
		s = strings.ReplaceAll(s, k, v)
	}
	return []byte(s)
}
