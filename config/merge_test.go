package config

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// authorGitHub is what a server's author declares in code.
func authorGitHub() Provider {
	return Provider{
		Name:        "github",
		DisplayName: "GitHub",
		Issuer:      "https://github.com",
		ClientID:    "Iv1.author",
		Scopes:      []string{"repo"},
		APIs:        []string{"https://api.github.com"},
		Options:     map[string]string{"x": "1", "y": "2"},
	}
}

// Code defaults < file < environment, field by field.
func TestDefaultsCompose(t *testing.T) {
	defaults := []Provider{authorGitHub()}
	f, err := ParseWith("config.yaml", []byte("providers:\n  - name: github\n    client_id: Iv1.user\n"), LoadOptions{
		Defaults: defaults,
		Environ:  []string{"MCPAUTH_PROVIDERS_GITHUB_SCOPES=repo,read:org"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Provider{{
		Name:        "github",
		DisplayName: "GitHub",
		Issuer:      "https://github.com",
		ClientID:    "Iv1.user",                   // the file
		Scopes:      []string{"repo", "read:org"}, // the environment
		APIs:        []string{"https://api.github.com"},
		Grant:       GrantAuto,
		Isolation:   IsolationSubprocess,
		Store:       StoreMemory,
		Options:     map[string]string{"x": "1", "y": "2"},
	}}
	if !reflect.DeepEqual(f.Providers, want) {
		t.Errorf("providers\n%v\nwant\n%v", f.Providers, want)
	}
	if !reflect.DeepEqual(defaults, []Provider{authorGitHub()}) {
		t.Errorf("the defaults were changed: %v", defaults)
	}
	f.Providers[0].Options["x"] = "changed"
	f.Providers[0].APIs[0] = "changed"
	if !reflect.DeepEqual(defaults, []Provider{authorGitHub()}) {
		t.Errorf("the result shares memory with the defaults: %v", defaults)
	}
}

func TestDefaultsMerge(t *testing.T) {
	slack := Provider{Name: "slack", Issuer: "https://slack.com", ClientID: "123.456"}
	for _, tt := range []struct {
		name     string
		yaml     string
		defaults []Provider
		environ  []string
		want     []Provider
	}{
		{"no file keeps the defaults", "", []Provider{authorGitHub(), slack}, nil, []Provider{
			with(authorGitHub(), func(p *Provider) {}),
			with(slack, func(p *Provider) {}),
		}},
		{"a provider only the file names is kept beside the defaults", `providers:
  - name: corp
    issuer: https://login.corp.example
    client_id: mcp
`, []Provider{authorGitHub()}, nil, []Provider{
			with(Provider{Name: "corp", Issuer: "https://login.corp.example", ClientID: "mcp"}, func(p *Provider) {}),
			with(authorGitHub(), func(p *Provider) {}),
		}},
		{"one option overridden, the others kept", `providers:
  - name: github
    options:
      x: file
`, []Provider{authorGitHub()}, nil, []Provider{
			with(authorGitHub(), func(p *Provider) { p.Options = map[string]string{"x": "file", "y": "2"} }),
		}},
		{"a list in the file replaces the default's", `providers:
  - name: github
    scopes: [gist]
    apis: []
`, []Provider{authorGitHub()}, nil, []Provider{
			with(authorGitHub(), func(p *Provider) { p.Scopes, p.APIs = []string{"gist"}, []string{} }),
		}},
		{"endpoints and extra params merge per key", `providers:
  - name: auth0
    endpoints:
      token: /oauth/token
    extra_params:
      audience: https://api.user.example
`, []Provider{{Name: "auth0", Issuer: "https://t.auth0.com/", ClientID: "c",
			Endpoints:   provider.Endpoints{Token: "/token", DeviceAuthorization: "/oauth/device/code"},
			ExtraParams: map[string]string{"audience": "https://api.author.example", "organization": "org_1"},
		}}, nil, []Provider{with(Provider{Name: "auth0", Issuer: "https://t.auth0.com/", ClientID: "c",
			Endpoints:   provider.Endpoints{Token: "/oauth/token", DeviceAuthorization: "/oauth/device/code"},
			ExtraParams: map[string]string{"audience": "https://api.user.example", "organization": "org_1"},
		}, func(p *Provider) {})}},
		{"resource in the file replaces the default's issuer", `providers:
  - name: github
    resource: https://api.github.com
`, []Provider{authorGitHub()}, nil, []Provider{
			with(authorGitHub(), func(p *Provider) { p.Issuer, p.Resource = "", "https://api.github.com" }),
		}},
		{"a default's resource is kept", "providers:\n  - name: api\n    client_id: user\n",
			[]Provider{{Name: "api", Resource: "https://api.example.com", ClientID: "author"}}, nil,
			[]Provider{with(Provider{Name: "api", Resource: "https://api.example.com", ClientID: "user"}, func(p *Provider) {})}},
		{"an explicit zero port in the file wins", `providers:
  - name: github
    loopback_port: 0
`, []Provider{with(authorGitHub(), func(p *Provider) { p.LoopbackPort = 8765 })}, nil, []Provider{
			with(authorGitHub(), func(p *Provider) {}),
		}},
		{"the environment reaches a default the file does not name", "", []Provider{authorGitHub()},
			[]string{"MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID=Iv1.env", "MCPAUTH_PROVIDERS_GITHUB_OPTIONS_Y=", "MCPAUTH_PROVIDERS=github"},
			[]Provider{with(authorGitHub(), func(p *Provider) { p.ClientID, p.Options = "Iv1.env", map[string]string{"x": "1"} })}},
		{"a plugin merges per key", `plugin_dir: /opt/p
providers:
  - name: corp
    plugin:
      sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
`, []Provider{{Name: "corp", Driver: DriverExternal, Issuer: "https://login.corp.example", ClientID: "mcp",
			Plugin: &Plugin{Path: "corp", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Env: []string{"A"}}}}, nil,
			[]Provider{with(Provider{Name: "corp", Driver: DriverExternal, Issuer: "https://login.corp.example", ClientID: "mcp",
				Plugin: &Plugin{Path: "corp", SHA256: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Env: []string{"A"}}}, func(p *Provider) {})}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseWith("config.yaml", []byte(tt.yaml), LoadOptions{Defaults: tt.defaults, Environ: tt.environ})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Providers, tt.want) {
				t.Errorf("providers\n%v\nwant\n%v", f.Providers, tt.want)
			}
		})
	}
}

// with returns p with defaults filled in, after change.
func with(p Provider, change func(*Provider)) Provider {
	p = cloneProvider(p)
	change(&p)
	if p.Grant == "" {
		p.Grant = DefaultGrant
	}
	if p.Isolation == "" {
		p.Isolation = DefaultIsolation
	}
	if p.Store == "" {
		p.Store = DefaultStore
	}
	return p
}

// everyField is a provider with every field set, so that a field added to
// Provider and forgotten by the merge fails TestDefaultsEveryField.
func everyField() Provider {
	return Provider{
		Name:                     "full",
		DisplayName:              "Full",
		Driver:                   DriverExternal,
		Issuer:                   "https://login.example.com",
		ClientID:                 "c",
		ClientSecret:             "s",
		ClientIDMetadataDocument: "https://app.example.com/client.json",
		Scopes:                   []string{"a"},
		Grant:                    GrantDevice,
		LoopbackHost:             LoopbackLocalhost,
		LoopbackPort:             8765,
		Isolation:                IsolationSubprocess,
		Store:                    StoreFile,
		Plugin:                   &Plugin{Path: "p", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Env: []string{"E"}},
		Options:                  map[string]string{"o": "1"},
		APIs:                     []string{"https://api.example.com"},
		VerificationHosts:        []string{"example.com"},
		Endpoints:                provider.Endpoints{Authorization: "/a", Token: "/t", DeviceAuthorization: "/d", Revocation: "/r", Userinfo: "/u"},
		ExtraParams:              map[string]string{"audience": "x"},
	}
}

func TestDefaultsEveryField(t *testing.T) {
	def := everyField()
	v := reflect.ValueOf(def)
	for i := range v.NumField() {
		// Resource excludes Issuer; TestDefaultsMerge merges it.
		if v.Field(i).IsZero() && v.Type().Field(i).Name != "Resource" {
			t.Fatalf("everyField leaves %s unset", v.Type().Field(i).Name)
		}
	}
	// A file entry that names the provider only is the default itself.
	f, err := ParseWith("c.yaml", []byte("plugin_dir: /opt/p\nproviders:\n  - name: full\n"), LoadOptions{Defaults: []Provider{def}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Providers, []Provider{def}) {
		t.Errorf("got\n%v\nwant\n%v", f.Providers, []Provider{def})
	}
	// A file entry that sets every key owes the default nothing, except
	// the entries of the mappings it does not name.
	data := `plugin_dir: /opt/p
providers:
  - name: full
    display_name: File
    driver: external
    issuer: https://login.file.example
    client_id: fc
    client_secret: fs
    client_id_metadata_document: https://file.example.com/client.json
    scopes: [b]
    apis: [https://api.file.example]
    grant: pkce
    loopback_host: "::1"
    loopback_port: 9999
    verification_hosts: [file.example]
    isolation: subprocess
    store: keychain
    plugin:
      path: q
      sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
      env: [F]
    options:
      o: "2"
    endpoints:
      authorization: /fa
      token: /ft
      device_authorization: /fd
      revocation: /fr
      userinfo: /fu
    extra_params:
      audience: "y"
`
	alone, err := Parse("c.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	merged, err := ParseWith("c.yaml", []byte(data), LoadOptions{Defaults: []Provider{def}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(merged.Providers, alone.Providers) {
		t.Errorf("merged\n%v\nwant the file's\n%v", merged.Providers, alone.Providers)
	}
}

func TestDefaultsProblems(t *testing.T) {
	for _, tt := range []struct {
		name     string
		yaml     string
		defaults []Provider
		environ  []string
		want     string
	}{
		{"a required field nobody set", "", []Provider{{Name: "github", Issuer: "https://github.com"}}, nil,
			`providers[0] "github" (server default).client_id: required (or client_id_metadata_document); set it in the config file or MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID`},
		{"no issuer either", "", []Provider{{Name: "github"}}, nil,
			`providers[0] "github" (server default).issuer: required: the authorization server's issuer URL (or resource: an API URL); set it in the config file or MCPAUTH_PROVIDERS_GITHUB_ISSUER
providers[0] "github" (server default).client_id: required (or client_id_metadata_document); set it in the config file or MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID`},
		{"a bad default value under a file entry", "providers:\n  - name: github\n    client_id: x\n",
			[]Provider{with(authorGitHub(), func(p *Provider) { p.Grant = "devise" })}, nil,
			`providers[0] "github" (server default).grant: "devise" is not valid; did you mean "device"?`},
		{"a missing field under a file entry points at the entry", "providers:\n  - name: github\n",
			[]Provider{{Name: "github", Issuer: "https://github.com"}}, nil,
			`config.yaml:2: providers[0].client_id: required (or client_id_metadata_document)`},
		{"the file, then the environment, then the code", "mode: lazzy\n",
			[]Provider{{Name: "gh", Issuer: "http://github.com", ClientID: "x"}}, []string{"MCPAUTH_LOGIN_TIMEOUT=5"},
			`config.yaml:1: mode: "lazzy" is not valid; did you mean "lazy"?
MCPAUTH_LOGIN_TIMEOUT: login_timeout: "5" is not a duration; write it like "5m", "90s" or "1h30m"
providers[0] "gh" (server default).issuer: "http://github.com" must use https (http is allowed only on loopback: 127.0.0.1, [::1], localhost)`},
		{"two defaults of one name", "", []Provider{authorGitHub(), authorGitHub()}, nil,
			`providers[1] "github" (server default).name: "github" is already the name of providers[0] (server default); names must be unique`},
		{"a bad option name in the code", "", []Provider{with(authorGitHub(), func(p *Provider) { p.Options = map[string]string{"Bad": "1"} })}, nil,
			`providers[0] "github" (server default).options.Bad: option names are lower-case letters, digits and "_"`},
		{"an unknown driver in the code", "", []Provider{with(authorGitHub(), func(p *Provider) { p.Driver = "Git Hub" })}, nil,
			`providers[0] "github" (server default).driver: "Git Hub" is not a driver name: lower-case letters, digits, "-" and "_"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWith("config.yaml", []byte(tt.yaml), LoadOptions{Defaults: tt.defaults, Environ: tt.environ})
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n  %v\nwant\n  %s", err, tt.want)
			}
		})
	}
	// The problem itself says where it came from.
	_, err := ParseWith("", nil, LoadOptions{Defaults: []Provider{{Name: "github", Issuer: "https://github.com"}}})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("err %v, want one problem", err)
	}
	want := Problem{Field: "providers[0].client_id", Default: true, Provider: "github",
		Message: "required (or client_id_metadata_document); set it in the config file or MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID"}
	if ve.Problems[0] != want {
		t.Errorf("problem %#v, want %#v", ve.Problems[0], want)
	}
}

func TestIsSet(t *testing.T) {
	keys := []string{"mode", "login_timeout", "plugin_dir"}
	for _, tt := range []struct {
		name    string
		yaml    string
		environ []string
		want    []string // the keys set
	}{
		{"nothing", "", nil, nil},
		{"the file", "mode: explicit\nlogin_timeout: 1m\n", nil, []string{"mode", "login_timeout"}},
		{"the environment", "", []string{"MCPAUTH_LOGIN_TIMEOUT=2m", "MCPAUTH_PLUGIN_DIR=/opt/p"}, []string{"login_timeout", "plugin_dir"}},
		{"an empty variable restores the default", "mode: explicit\nlogin_timeout: 1m\nplugin_dir: /opt/p\n",
			[]string{"MCPAUTH_MODE=", "MCPAUTH_LOGIN_TIMEOUT=", "MCPAUTH_PLUGIN_DIR="}, nil},
		{"the default value written out is set", "mode: lazy\n", nil, []string{"mode"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseWith("c.yaml", []byte(tt.yaml), LoadOptions{Environ: tt.environ})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if got, want := f.IsSet(k), slices.Contains(tt.want, k); got != want {
					t.Errorf("IsSet(%q) = %v, want %v", k, got, want)
				}
			}
			if f.IsSet("providers") || f.IsSet("nonsense") {
				t.Errorf("IsSet of a key it does not track is true")
			}
		})
	}
	if (&File{Mode: ModeExplicit, LoginTimeout: time.Minute}).IsSet("mode") {
		t.Error("a File built in code reports its mode as set by the user")
	}
}
