package config

import (
	"fmt"
	"strings"
	"testing"
)

// A client secret never appears in an error message, whatever is wrong
// with it or around it, nor when a configuration is printed.
func TestSecretNeverShown(t *testing.T) {
	const secret = "918273645"
	head := "providers:\n  - name: x\n    issuer: https://login.example.com\n    client_id: c\n"
	for _, tt := range []struct {
		name     string
		yaml     string
		environ  []string
		defaults []Provider
	}{
		{"a number", head + "    client_secret: " + secret + "\n", nil, nil},
		{"a float", head + "    client_secret: " + secret + ".50\n", nil, nil},
		{"with a space", head + "    client_secret: \"" + secret + " x\"\n", nil, nil},
		{"with a line break", head + "    client_secret: \"" + secret + "\\n\"\n", nil, nil},
		{"in a list", head + "    client_secret: [" + secret + "]\n", nil, nil},
		{"in a mapping", head + "    client_secret: {" + secret + ": " + secret + "}\n", nil, nil},
		{"set twice", head + "    client_secret: \"" + secret + "\"\n    client_secret: \"" + secret + "\"\n", nil, nil},
		{"unterminated quote", head + "    client_secret: \"" + secret + "\n", nil, nil},
		{"tab indentation", head + "\tclient_secret: " + secret + "\n", nil, nil},
		{"from the environment", head, []string{"MCPAUTH_PROVIDERS_X_CLIENT_SECRET=" + secret + " \t"}, nil},
		{"from the environment, unknown provider", head, []string{"MCPAUTH_PROVIDERS_Y_CLIENT_SECRET=" + secret}, nil},
		{"from the code", "", nil, []Provider{{Name: "x", Issuer: "https://login.example.com", ClientID: "c", ClientSecret: secret + "\n"}}},
		{"a password in an API URL", head + "    apis: [\"https://u:" + secret + "@api.example.com\"]\n", nil, nil},
		{"a password in an endpoint", head + "    endpoints:\n      token: \"https://u:" + secret + "@login.example.com/t\"\n", nil, nil},
		{"a password in an issuer", "providers:\n  - name: x\n    issuer: \"http://u:" + secret + "@login.example.com\"\n    client_id: c\n", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWith("config.yaml", []byte(tt.yaml), LoadOptions{Environ: tt.environ, Defaults: tt.defaults})
			if err == nil {
				t.Fatal("accepted, want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the secret:\n%v", err)
			}
		})
	}

	f, err := Parse("config.yaml", []byte(head+"    client_secret: \""+secret+"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Providers[0].ClientSecret != secret {
		t.Fatalf("ClientSecret %q, want the secret", f.Providers[0].ClientSecret)
	}
	for _, verb := range []string{"%v", "%+v", "%s"} {
		if s := fmt.Sprintf(verb, f); strings.Contains(s, secret) || !strings.Contains(s, "ClientSecret:REDACTED") {
			t.Errorf("%s of the File: %s; want the secret redacted", verb, s)
		}
	}
}
