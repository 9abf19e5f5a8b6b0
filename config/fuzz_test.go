package config

import (
	"errors"
	"testing"
)

// FuzzParseEnv: any file content is parsed without panic into a File or a
// *ValidationError, nothing else.
func FuzzParseEnv(f *testing.F) {
	f.Add([]byte(exampleSeed))
	f.Add([]byte("providers:\n  - name: github\n    issuer: https://github.com\n    client_id: x\n    grant: devise\n"))
	f.Add([]byte("providers:\n  - name: p\n    issuer: https://as.example\n    client_id_metadata_document: https://app.example/a/../c.json\n"))
	f.Add([]byte("mode: lazzy\nlogin_timeout: -1s\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("providers: [{name: x, options: {a: [1, {b: c}]}}]\n"))
	f.Add([]byte("\t- x"))
	f.Add([]byte("providers:\n  - <<: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseEnv("fuzz.yaml", data, nil)
		if err == nil {
			if file == nil {
				t.Fatal("nil File without error")
			}
			return
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("error %T %v is not a *ValidationError", err, err)
		}
	})
}

const exampleSeed = `mode: lazy
providers:
  - name: github
    issuer: https://github.com
    client_id: Iv1.0123456789abcdef
    scopes: [repo, read:user]
  - name: corp
    resource: https://api.corp.example/v1
    client_id_metadata_document: https://app.example.com/oauth/client.json
    grant: pkce
`
