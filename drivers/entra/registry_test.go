package entra_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/drivers/entra"
	"github.com/mcpauth/mcpauth/registry"
)

func TestClaims(t *testing.T) {
	for iss, want := range map[string]bool{
		"https://login.microsoftonline.com/common/v2.0":                               true,
		"https://login.microsoftonline.com/organizations/v2.0":                        true,
		"https://login.microsoftonline.com/consumers/v2.0":                            true,
		"https://login.microsoftonline.com/aaaabbbb-0000-cccc-1111-dddd2222eeee/v2.0": true,
		"https://Login.MicrosoftOnline.com/contoso.onmicrosoft.com/v2.0":              true,
		"https://login.microsoftonline.com/common":                                    true, // claimed, refused by New with a hint
		"http://login.microsoftonline.com/common/v2.0":                                false,
		"https://login.microsoftonline.com:8443/common/v2.0":                          false,
		"https://login.microsoftonline.com.evil.example/common/v2.0":                  false,
		"https://sts.windows.net/aaaabbbb-0000-cccc-1111-dddd2222eeee/":               false,
		"https://login.microsoftonline.us/common/v2.0":                                false,
		"https://accounts.google.com":                                                 false,
	} {
		if got := entra.Claims(iss); got != want {
			t.Errorf("Claims(%q) = %v, want %v", iss, got, want)
		}
	}
}

func TestRegistryResolves(t *testing.T) {
	for _, iss := range []string{
		"https://login.microsoftonline.com/common/v2.0",
		"https://login.microsoftonline.com/aaaabbbb-0000-cccc-1111-dddd2222eeee/v2.0",
	} {
		reg, reason, err := registry.Resolve(drivers.Builtin, "", iss)
		if err != nil || reg.Name != entra.Name || reason == "" {
			t.Errorf("Resolve(%q) = %q (%s), %v; want entra", iss, reg.Name, reason, err)
		}
	}
	if reg, _, err := registry.Resolve(drivers.Builtin, "entra", "https://login.microsoftonline.us/common/v2.0"); err != nil || reg.Name != entra.Name {
		t.Errorf("explicit driver: %q, %v", reg.Name, err)
	}
}
