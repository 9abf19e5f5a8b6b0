package login

import (
	"errors"
	"testing"

	"github.com/mcpauth/mcpauth/provider"
)

func TestSelectGrant(t *testing.T) {
	both := provider.Description{Name: "oidc", Grants: []provider.Grant{provider.GrantPKCE, provider.GrantDevice}}
	pkceOnly := provider.Description{Name: "slack", Grants: []provider.Grant{provider.GrantPKCE}}
	full := &provider.AuthServerMetadata{Issuer: "https://as", AuthorizationEndpoint: "https://as/a", TokenEndpoint: "https://as/t", DeviceAuthorizationEndpoint: "https://as/d"}
	noDevice := &provider.AuthServerMetadata{Issuer: "https://as", AuthorizationEndpoint: "https://as/a", TokenEndpoint: "https://as/t"}
	env := func(goos string, vars map[string]string, files ...string) Environment {
		return Environment{GOOS: goos, Getenv: func(k string) string { return vars[k] },
			Exists: func(p string) bool {
				for _, f := range files {
					if f == p {
						return true
					}
				}
				return false
			}}
	}
	desktop := env("linux", map[string]string{"DISPLAY": ":0"})
	tests := []struct {
		name    string
		pref    GrantPreference
		desc    provider.Description
		meta    *provider.AuthServerMetadata
		env     Environment
		want    provider.Grant
		wantErr error
	}{
		{"desktop linux picks pkce", PreferAuto, both, full, desktop, provider.GrantPKCE, nil},
		{"wayland picks pkce", PreferAuto, both, full, env("linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}), provider.GrantPKCE, nil},
		{"macOS picks pkce", PreferAuto, both, full, env("darwin", nil), provider.GrantPKCE, nil},
		{"headless linux picks device", PreferAuto, both, full, env("linux", nil), provider.GrantDevice, nil},
		{"ssh picks device even with DISPLAY", PreferAuto, both, full, env("linux", map[string]string{"DISPLAY": "localhost:10", "SSH_CONNECTION": "1 2 3 4"}), provider.GrantDevice, nil},
		{"docker picks device", PreferAuto, both, full, env("linux", map[string]string{"DISPLAY": ":0"}, "/.dockerenv"), provider.GrantDevice, nil},
		{"podman picks device", PreferAuto, both, full, env("darwin", nil, "/run/.containerenv"), provider.GrantDevice, nil},
		{"kubernetes picks device", PreferAuto, both, full, env("linux", map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1"}), provider.GrantDevice, nil},
		{"driver without device: pkce even headless", PreferAuto, pkceOnly, full, env("linux", nil), provider.GrantPKCE, nil},
		{"server without device: pkce even headless", PreferAuto, both, noDevice, env("linux", nil), provider.GrantPKCE, nil},
		{"configured device", PreferDevice, both, full, desktop, provider.GrantDevice, nil},
		{"configured pkce over ssh", PreferPKCE, both, full, env("linux", map[string]string{"SSH_TTY": "/dev/pts/1"}), provider.GrantPKCE, nil},
		{"configured device, driver has none", PreferDevice, pkceOnly, full, desktop, "", provider.ErrGrantUnsupported},
		{"configured device, server has none", PreferDevice, both, noDevice, desktop, "", provider.ErrGrantUnsupported},
		{"nothing offered", PreferAuto, provider.Description{Name: "x"}, full, desktop, "", provider.ErrGrantUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SelectGrant(tt.pref, tt.desc, tt.meta, tt.env)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Grant != tt.want {
				t.Fatalf("SelectGrant = %+v, %v; want %s", got, err, tt.want)
			}
			if got.Reason == "" {
				t.Error("no reason given")
			}
		})
	}
}

func TestParseGrantPreference(t *testing.T) {
	for in, want := range map[string]GrantPreference{"": PreferAuto, "auto": PreferAuto, "device": PreferDevice, "pkce": PreferPKCE} {
		if got, err := ParseGrantPreference(in); err != nil || got != want {
			t.Errorf("ParseGrantPreference(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseGrantPreference("browser"); err == nil {
		t.Error("ParseGrantPreference(browser) accepted")
	}
}

func TestReadsChallenge(t *testing.T) {
	def := provider.Description{}
	gh := provider.Description{ChallengeStatuses: []int{401, 403, 404}}
	slack := provider.Description{ChallengeStatuses: []int{200, 401, 403}}
	for _, c := range []struct {
		d      provider.Description
		status int
		want   bool
	}{
		{def, 401, true}, {def, 403, true}, {def, 404, false}, {def, 200, false},
		{gh, 404, true}, {gh, 200, false}, {slack, 200, true}, {slack, 404, false},
	} {
		if got := c.d.ReadsChallenge(c.status); got != c.want {
			t.Errorf("%v.ReadsChallenge(%d) = %v", c.d.ChallengeStatuses, c.status, got)
		}
	}
}
