package config

import (
	"reflect"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

const envBase = `plugin_dir: /opt/mcpauth/plugins
providers:
  - name: github
    issuer: https://github.com
    client_id: from-file
    scopes: [repo]
    options:
      enterprise_host: github.example.com
  - name: my-okta
    issuer: https://example.okta.com
    client_id: okta-client
`

func TestEnvOverrides(t *testing.T) {
	f, err := ParseEnv("config.yaml", []byte(envBase), []string{
		"PATH=/usr/bin",
		"MCPAUTH_CONFIG=/ignored/here.yaml",
		"MCPAUTH_MODE=explicit",
		"MCPAUTH_LOGIN_TIMEOUT=90s",
		"MCPAUTH_PLUGIN_DIR=/srv/plugins",
		"MCPAUTH_STORE=file",
		"MCPAUTH_OPEN_BROWSER=false",
		"MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID=from-env",
		"MCPAUTH_PROVIDERS_GITHUB_STORE=keychain",
		"MCPAUTH_PROVIDERS_GITHUB_SCOPES=repo, read:org  gist",
		"MCPAUTH_PROVIDERS_GITHUB_GRANT=device",
		"MCPAUTH_PROVIDERS_GITHUB_LOOPBACK_PORT=8765",
		"MCPAUTH_PROVIDERS_GITHUB_OPTIONS_ENTERPRISE_HOST=",
		"MCPAUTH_PROVIDERS_MY_OKTA_OPTIONS_AUTHORIZATION_SERVER_ID=default",
		"MCPAUTH_PROVIDERS_MY_OKTA_ISSUER=",
		"MCPAUTH_PROVIDERS_MY_OKTA_RESOURCE=https://api.example.com/v1",
		"MCPAUTH_PROVIDERS=github,corp",
		"MCPAUTH_PROVIDERS_CORP_DRIVER=external",
		"MCPAUTH_PROVIDERS_CORP_ISSUER=https://login.corp.example",
		"MCPAUTH_PROVIDERS_CORP_CLIENT_ID=mcp",
		"MCPAUTH_PROVIDERS_CORP_PLUGIN_PATH=corp-idp-driver",
		"MCPAUTH_PROVIDERS_CORP_PLUGIN_SHA256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"MCPAUTH_PROVIDERS_CORP_PLUGIN_ENV=CORP_IDP_REGION,HTTPS_PROXY",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &File{
		set:          setKeys("mode", "login_timeout", "plugin_dir", "store", "open_browser"),
		Mode:         ModeExplicit,
		LoginTimeout: 90 * time.Second,
		Store:        StoreFile,
		PluginDir:    "/srv/plugins",
		Providers: []Provider{{
			Name:         "github",
			Issuer:       "https://github.com",
			ClientID:     "from-env",
			Scopes:       []string{"repo", "read:org", "gist"},
			Grant:        GrantDevice,
			LoopbackPort: 8765,
			Isolation:    IsolationSubprocess,
			Store:        StoreKeychain,
			Options:      map[string]string{},
		}, {
			Name:      "my-okta",
			Resource:  "https://api.example.com/v1",
			ClientID:  "okta-client",
			Grant:     GrantAuto,
			Isolation: IsolationSubprocess,
			Store:     StoreFile,
			Options:   map[string]string{"authorization_server_id": "default"},
		}, {
			Name:      "corp",
			Driver:    DriverExternal,
			Issuer:    "https://login.corp.example",
			ClientID:  "mcp",
			Grant:     GrantAuto,
			Isolation: IsolationSubprocess,
			Store:     StoreFile,
			Plugin: &Plugin{
				Path:   "corp-idp-driver",
				SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				Env:    []string{"CORP_IDP_REGION", "HTTPS_PROXY"},
			},
		}},
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got\n%+v\nwant\n%+v", f, want)
	}
}

// A container with no config file at all.
func TestEnvOnly(t *testing.T) {
	f, err := LoadEnv("", []string{
		"MCPAUTH_PROVIDERS=github",
		"MCPAUTH_PROVIDERS_GITHUB_ISSUER=https://github.com",
		"MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID=Iv1.x",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Providers) != 1 || f.Providers[0].Name != "github" || f.Providers[0].ClientID != "Iv1.x" || f.Mode != ModeLazy {
		t.Errorf("got %+v", f)
	}
}

func TestEnvEmptyValueRestoresDefault(t *testing.T) {
	f, err := ParseEnv("config.yaml", []byte("mode: explicit\nlogin_timeout: 1m\n"), []string{"MCPAUTH_MODE=", "MCPAUTH_LOGIN_TIMEOUT="})
	if err != nil {
		t.Fatal(err)
	}
	if f.Mode != DefaultMode || f.LoginTimeout != DefaultLoginTimeout {
		t.Errorf("mode %q, login_timeout %v; want the defaults", f.Mode, f.LoginTimeout)
	}
}

func TestEnvProblems(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		env        []string
		want       string
	}{
		{"bad value names the variable", envBase, []string{"MCPAUTH_PROVIDERS_GITHUB_GRANT=devise"},
			`MCPAUTH_PROVIDERS_GITHUB_GRANT: providers[0].grant: "devise" is not valid; did you mean "device"?`},
		{"bad duration", "", []string{"MCPAUTH_LOGIN_TIMEOUT=5"},
			`MCPAUTH_LOGIN_TIMEOUT: login_timeout: "5" is not a duration; write it like "5m", "90s" or "1h30m"`},
		{"bad port", envBase, []string{"MCPAUTH_PROVIDERS_GITHUB_LOOPBACK_PORT=http"},
			`MCPAUTH_PROVIDERS_GITHUB_LOOPBACK_PORT: providers[0].loopback_port: "http" is not a port number (0 to 65535; 0 picks a free port)`},
		{"http issuer", envBase, []string{"MCPAUTH_PROVIDERS_GITHUB_ISSUER=http://github.com"},
			`MCPAUTH_PROVIDERS_GITHUB_ISSUER: providers[0].issuer: "http://github.com" must use https (http is allowed only on loopback: 127.0.0.1, [::1], localhost)`},
		{"typo in the key", envBase, []string{"MCPAUTH_PROVIDERS_GITHUB_CLIENTID=x"},
			`MCPAUTH_PROVIDERS_GITHUB_CLIENTID: unknown setting CLIENTID for provider "github"; did you mean MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID?`},
		{"unknown provider", envBase, []string{"MCPAUTH_PROVIDERS_GITHUBB_CLIENT_ID=x"},
			`MCPAUTH_PROVIDERS_GITHUBB_CLIENT_ID: names no provider (the providers are "github", "my-okta"); add new ones to MCPAUTH_PROVIDERS`},
		{"no providers at all", "", []string{"MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID=x"},
			`MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID: names no provider; add it to MCPAUTH_PROVIDERS (a comma-separated list of names)`},
		{"provider added without fields", "", []string{"MCPAUTH_PROVIDERS=slack", "MCPAUTH_PROVIDERS_SLACK_ISSUER=https://slack.com"},
			`MCPAUTH_PROVIDERS: providers[0].client_id: required (or client_id_metadata_document); set MCPAUTH_PROVIDERS_SLACK_CLIENT_ID`},
		{"bad name added", "", []string{"MCPAUTH_PROVIDERS=Slack"},
			`MCPAUTH_PROVIDERS: providers[0].name: "Slack" is not valid; use lower-case letters, digits, "-" and "_"
MCPAUTH_PROVIDERS: providers[0].issuer: required: the authorization server's issuer URL (or resource: an API URL)
MCPAUTH_PROVIDERS: providers[0].client_id: required (or client_id_metadata_document)`},
		{"ambiguous", `providers:
  - name: gh
    issuer: https://github.com
    client_id: x
  - name: gh_plugin
    issuer: https://github.com
    client_id: x
`, []string{"MCPAUTH_PROVIDERS_GH_PLUGIN_PLUGIN_PATH=x"},
			// GH + PLUGIN_PLUGIN_PATH is no key, GH_PLUGIN + PLUGIN_PATH is:
			// not ambiguous, but the plugin is then refused.
			`MCPAUTH_PROVIDERS_GH_PLUGIN_PLUGIN_PATH: providers[1].plugin: only allowed with driver "external"`},
		{"truly ambiguous", `providers:
  - name: a
    issuer: https://github.com
    client_id: x
  - name: a_options
    issuer: https://github.com
    client_id: x
`, []string{"MCPAUTH_PROVIDERS_A_OPTIONS_OPTIONS_X=1"},
			`MCPAUTH_PROVIDERS_A_OPTIONS_OPTIONS_X: ambiguous: it can address providers "a" and "a_options"; rename one`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEnv("config.yaml", []byte(tt.yaml), tt.env)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n  %v\nwant\n  %s", err, tt.want)
			}
		})
	}
}

func TestEnvNewFields(t *testing.T) {
	base := `providers:
  - name: auth0
    issuer: https://tenant.auth0.com/
    client_id: c
    endpoints:
      token: /oauth/token
      revocation: /oauth/revoke
    extra_params:
      audience: https://api.file.example
      organization: org_1
`
	f, err := ParseEnv("config.yaml", []byte(base), []string{
		"MCPAUTH_PROVIDERS_AUTH0_CLIENT_SECRET=from-env",
		"MCPAUTH_PROVIDERS_AUTH0_DISPLAY_NAME=Acme SSO",
		"MCPAUTH_PROVIDERS_AUTH0_VERIFICATION_HOSTS=acme.example, id.acme.example:8443",
		"MCPAUTH_PROVIDERS_AUTH0_APIS=https://api.acme.example https://files.acme.example/v2/",
		"MCPAUTH_PROVIDERS_AUTH0_LOOPBACK_HOST=localhost",
		"MCPAUTH_PROVIDERS_AUTH0_EXTRA_PARAMS_AUDIENCE=https://api.env.example",
		"MCPAUTH_PROVIDERS_AUTH0_EXTRA_PARAMS_ORGANIZATION=",
		"MCPAUTH_PROVIDERS_AUTH0_ENDPOINTS_DEVICE_AUTHORIZATION=/oauth/device/code",
		"MCPAUTH_PROVIDERS_AUTH0_ENDPOINTS_REVOCATION=",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Provider{
		Name:              "auth0",
		DisplayName:       "Acme SSO",
		Issuer:            "https://tenant.auth0.com/",
		ClientID:          "c",
		ClientSecret:      "from-env",
		APIs:              []string{"https://api.acme.example", "https://files.acme.example/v2/"},
		Grant:             GrantAuto,
		LoopbackHost:      LoopbackLocalhost,
		VerificationHosts: []string{"acme.example", "id.acme.example:8443"},
		Isolation:         IsolationSubprocess,
		Store:             StoreMemory,
		Endpoints:         provider.Endpoints{Token: "/oauth/token", DeviceAuthorization: "/oauth/device/code"},
		ExtraParams:       map[string]string{"audience": "https://api.env.example"},
	}
	if !reflect.DeepEqual(f.Providers, []Provider{want}) {
		t.Errorf("got\n%v\nwant\n%v", f.Providers, []Provider{want})
	}

	// An empty list variable removes the file's list.
	f, err = ParseEnv("config.yaml", []byte(base+"    apis: [https://api.acme.example]\n"), []string{"MCPAUTH_PROVIDERS_AUTH0_APIS="})
	if err != nil || f.Providers[0].APIs != nil {
		t.Errorf("APIS= : %v, %v; want no apis", f, err)
	}
}

func TestEnvNewFieldProblems(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  []string
		want string
	}{
		{"endpoint key typo", []string{"MCPAUTH_PROVIDERS_GITHUB_ENDPOINTS_TOKN=/t"},
			`MCPAUTH_PROVIDERS_GITHUB_ENDPOINTS_TOKN: unknown setting ENDPOINTS_TOKN for provider "github"; did you mean MCPAUTH_PROVIDERS_GITHUB_ENDPOINTS_TOKEN?`},
		{"endpoint value", []string{"MCPAUTH_PROVIDERS_GITHUB_ENDPOINTS_TOKEN=oauth/token"},
			`MCPAUTH_PROVIDERS_GITHUB_ENDPOINTS_TOKEN: providers[0].endpoints.token: "oauth/token" is neither an absolute URL nor a path starting with "/"`},
		{"extra param reserved", []string{"MCPAUTH_PROVIDERS_GITHUB_EXTRA_PARAMS_SCOPE=admin"},
			`MCPAUTH_PROVIDERS_GITHUB_EXTRA_PARAMS_SCOPE: providers[0].extra_params.scope: mcpauth sets scope itself; use scopes`},
		{"verification host", []string{"MCPAUTH_PROVIDERS_GITHUB_VERIFICATION_HOSTS=github.com,https://evil.example/x"},
			`MCPAUTH_PROVIDERS_GITHUB_VERIFICATION_HOSTS: providers[0].verification_hosts[1]: "https://evil.example/x" is a URL; give its host alone: "evil.example"`},
		{"api", []string{"MCPAUTH_PROVIDERS_GITHUB_APIS=http://api.github.com"},
			`MCPAUTH_PROVIDERS_GITHUB_APIS: providers[0].apis[0]: "http://api.github.com" must use https (http is allowed only on loopback: 127.0.0.1, [::1], localhost)`},
		{"loopback host", []string{"MCPAUTH_PROVIDERS_GITHUB_LOOPBACK_HOST=0.0.0.0"},
			`MCPAUTH_PROVIDERS_GITHUB_LOOPBACK_HOST: providers[0].loopback_host: "0.0.0.0" is not valid; want one of "127.0.0.1", "localhost" or "::1"`},
		{"client secret", []string{"MCPAUTH_PROVIDERS_GITHUB_CLIENT_SECRET=hunter2 hunter3"},
			`MCPAUTH_PROVIDERS_GITHUB_CLIENT_SECRET: providers[0].client_secret: contains white space (a line break when copied?); the value is not shown`},
		{"display name", []string{"MCPAUTH_PROVIDERS_GITHUB_DISPLAY_NAME=Git\tHub"},
			`MCPAUTH_PROVIDERS_GITHUB_DISPLAY_NAME: providers[0].display_name: "Git\tHub" contains a control character (a line break, say); write it on one line`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEnv("config.yaml", []byte(envBase), tt.env)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n  %v\nwant\n  %s", err, tt.want)
			}
		})
	}
}

func TestDriverNames(t *testing.T) {
	for _, tt := range []struct {
		name    string
		driver  string
		drivers []string
		want    string // "" for valid
	}{
		{"any well-formed name without a catalogue", "gitlab", nil, ""},
		{"another", "corp_idp-2", nil, ""},
		{"malformed without a catalogue", "Git Hub", nil,
			`config.yaml:3: providers[0].driver: "Git Hub" is not a driver name: lower-case letters, digits, "-" and "_"`},
		{"in the catalogue", "entra", []string{"oidc", "entra"}, ""},
		{"not in the catalogue", "github", []string{"oidc", "entra"},
			`config.yaml:3: providers[0].driver: "github" is not valid; want one of "oidc", "entra" or "external"`},
		{"a typo of the catalogue", "entr", []string{"oidc", "entra"},
			`config.yaml:3: providers[0].driver: "entr" is not valid; did you mean "entra"?`},
		{"an empty catalogue", "oidc", []string{},
			`config.yaml:3: providers[0].driver: "oidc" is not valid; want "external"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := "providers:\n  - name: x\n    driver: " + tt.driver + "\n    issuer: https://login.example.com\n    client_id: c\n"
			_, err := ParseWith("config.yaml", []byte(data), LoadOptions{Drivers: tt.drivers})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("error\n  %v\nwant\n  %s", err, tt.want)
			}
		})
	}
	// external needs no catalogue entry, and the environment is checked too.
	_, err := ParseWith("", nil, LoadOptions{Drivers: []string{"oidc"}, Environ: []string{
		"MCPAUTH_PROVIDERS=a", "MCPAUTH_PROVIDERS_A_ISSUER=https://a.example", "MCPAUTH_PROVIDERS_A_CLIENT_ID=c", "MCPAUTH_PROVIDERS_A_DRIVER=okat",
	}})
	if want := `MCPAUTH_PROVIDERS_A_DRIVER: providers[0].driver: "okat" is not valid; want one of "oidc" or "external"`; err == nil || err.Error() != want {
		t.Errorf("error\n  %v\nwant\n  %s", err, want)
	}
}
