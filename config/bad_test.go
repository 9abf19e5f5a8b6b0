package config

import (
	"errors"
	"testing"
)

// schemaVerdict says what the JSON Schema makes of a bad file.
type schemaVerdict int

const (
	schemaRefuses schemaVerdict = iota // the schema can tell: it must refuse the file too
	schemaAccepts                      // a rule only Go checks: the schema must accept the file
	schemaNA                           // not YAML a schema can be applied to
)

// badFiles are invalid config files, each with the one problem ParseWith
// must report, word for word, given the built-in drivers. TestSchemaAgrees
// runs them through the JSON Schema, which knows no driver list.
var badFiles = []struct {
	name   string
	yaml   string
	want   string
	schema schemaVerdict
}{
	{"grant typo", `mode: lazy
providers:
  - name: github
    issuer: https://github.com
    client_id: Iv1.0123456789abcdef
    scopes: [repo]
    grant: devise
`, `config.yaml:7: providers[0].grant: "devise" is not valid; did you mean "device"?`, schemaRefuses},

	{"unknown grant", `providers:
  - name: github
    issuer: https://github.com
    client_id: x
    grant: browser
`, `config.yaml:5: providers[0].grant: "browser" is not valid; want one of "auto", "device" or "pkce"`, schemaRefuses},

	{"mode typo", `mode: lazzy
`, `config.yaml:1: mode: "lazzy" is not valid; did you mean "lazy"?`, schemaRefuses},

	{"unknown top-level field", `mode: lazy
plugins_dir: /opt/p
`, `config.yaml:2: plugins_dir: unknown field; did you mean "plugin_dir"?`, schemaRefuses},

	{"unknown provider field", `providers:
  - name: github
    issuer: https://github.com
    client_id: x
    scope: [repo]
`, `config.yaml:5: providers[0].scope: unknown field; did you mean "scopes"?`, schemaRefuses},

	{"unknown field, nothing close", `providers:
  - name: github
    issuer: https://github.com
    client_id: x
    colour: blue
`, `config.yaml:5: providers[0].colour: unknown field; want one of "name", "display_name", "driver", "issuer", "resource", "client_id", "client_secret", "client_id_metadata_document", "scopes", "apis", "grant", "loopback_host", "loopback_port", "verification_hosts", "isolation", "store", "plugin", "options", "endpoints" or "extra_params"`, schemaRefuses},

	{"unknown plugin field", `plugin_dir: /opt/p
providers:
  - name: corp
    driver: external
    issuer: https://login.corp.example
    client_id: x
    plugin:
      path: corp
      sha: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
`, `config.yaml:9: providers[0].plugin.sha: unknown field; did you mean "sha256"?`, schemaRefuses},

	{"scopes not a list", `providers:
  - name: github
    issuer: https://github.com
    client_id: x
    scopes: repo read:org
`, `config.yaml:5: providers[0].scopes: want a list of strings, got the string "repo read:org"`, schemaRefuses},

	{"port is a string", `providers:
  - name: github
    issuer: https://github.com
    client_id: x
    loopback_port: "8080"
`, `config.yaml:5: providers[0].loopback_port: want a port number from 0 to 65535, got the string "8080"`, schemaRefuses},

	{"port out of range", `providers:
  - name: github
    issuer: https://github.com
    client_id: x
    loopback_port: 70000
`, `config.yaml:5: providers[0].loopback_port: 70000 is not a port number (0 to 65535; 0 picks a free port)`, schemaRefuses},

	{"client_id is a number", `providers:
  - name: slack
    issuer: https://slack.com
    client_id: 1234567890.50
`, `config.yaml:4: providers[0].client_id: want a string, got the number 1234567890.50; put it in quotes: "1234567890.50"`, schemaRefuses},

	{"providers is a mapping", `providers:
  github:
    issuer: https://github.com
`, `config.yaml:2: providers: want a list of providers (each item starting with "- name:"), got a mapping`, schemaRefuses},

	{"provider is a string", `providers:
  - github
`, `config.yaml:2: providers[0]: want a mapping of keys, got the string "github"`, schemaRefuses},

	{"login_timeout without unit", `login_timeout: 300
`, `config.yaml:1: login_timeout: want a duration such as "5m" or "90s", got the number 300 (a duration needs a unit)`, schemaRefuses},

	{"login_timeout in words", `login_timeout: 5 minutes
`, `config.yaml:1: login_timeout: "5 minutes" is not a duration; write it like "5m", "90s" or "1h30m"`, schemaRefuses},

	{"login_timeout zero", `login_timeout: 0s
`, `config.yaml:1: login_timeout: must be longer than zero`, schemaAccepts},

	{"unknown driver", `providers:
  - name: gitlab
    driver: gitlab
    issuer: https://gitlab.com
    client_id: x
`, `config.yaml:3: providers[0].driver: "gitlab" is not valid; want one of "oidc", "github", "slack", "okta" or "external"`, schemaAccepts},

	{"driver typo", `providers:
  - name: github
    driver: githib
    issuer: https://github.com
    client_id: x
`, `config.yaml:3: providers[0].driver: "githib" is not valid; did you mean "github"?`, schemaAccepts},

	{"missing client ID", `providers:
  - name: github
    issuer: https://github.com
    scopes: [repo]
`, `config.yaml:2: providers[0].client_id: required (or client_id_metadata_document)`, schemaRefuses},

	{"missing name", `providers:
  - issuer: https://github.com
    client_id: x
`, `config.yaml:2: providers[0].name: required`, schemaRefuses},

	{"bad name", `providers:
  - name: GitHub
    issuer: https://github.com
    client_id: x
`, `config.yaml:2: providers[0].name: "GitHub" is not valid; use lower-case letters, digits, "-" and "_"`, schemaRefuses},

	{"http issuer", `providers:
  - name: corp
    issuer: http://login.corp.example
    client_id: x
`, `config.yaml:3: providers[0].issuer: "http://login.corp.example" must use https (http is allowed only on loopback: 127.0.0.1, [::1], localhost)`, schemaRefuses},

	{"http resource", `providers:
  - name: api
    resource: http://api.example.com/v1
    client_id: x
`, `config.yaml:3: providers[0].resource: "http://api.example.com/v1" must use https (http is allowed only on loopback: 127.0.0.1, [::1], localhost)`, schemaRefuses},

	{"issuer with a query", `providers:
  - name: corp
    issuer: https://login.corp.example/?tenant=a
    client_id: x
`, `config.yaml:3: providers[0].issuer: "https://login.corp.example/?tenant=a" must not have a query (?…)`, schemaRefuses},

	{"issuer empty", `providers:
  - name: corp
    issuer: ""
    client_id: x
`, `config.yaml:3: providers[0].issuer: empty; remove the key or give a value`, schemaRefuses},

	{"issuer and resource", `providers:
  - name: api
    issuer: https://login.example.com
    resource: https://api.example.com/v1
    client_id: x
`, `config.yaml:4: providers[0].resource: set issuer or resource, not both`, schemaRefuses},

	{"neither issuer nor resource", `providers:
  - name: api
    client_id: x
`, `config.yaml:2: providers[0].issuer: required: the authorization server's issuer URL (or resource: an API URL)`, schemaRefuses},

	{"CIMD without a path", `providers:
  - name: api
    resource: https://api.example.com/v1
    client_id_metadata_document: https://app.example.com/
`, `config.yaml:4: providers[0].client_id_metadata_document: "https://app.example.com/" needs a path (the document's own URL, such as https://app.example.com/oauth/client.json)`, schemaRefuses},

	{"CIMD over http", `providers:
  - name: api
    resource: https://api.example.com/v1
    client_id_metadata_document: http://127.0.0.1/client.json
`, `config.yaml:4: providers[0].client_id_metadata_document: "http://127.0.0.1/client.json" must be an https URL`, schemaRefuses},

	{"scope with a space", `providers:
  - name: github
    issuer: https://github.com
    client_id: x
    scopes: [repo, "read org"]
`, `config.yaml:5: providers[0].scopes[1]: "read org" is not a scope: one word of printable ASCII without quotes or backslashes; list scopes one per item`, schemaRefuses},

	{"isolation typo", `providers:
  - name: github
    issuer: https://github.com
    client_id: x
    isolation: inprocess
`, `config.yaml:5: providers[0].isolation: "inprocess" is not valid; did you mean "in-process"?`, schemaRefuses},

	{"store typo", `store: keychian
`, `config.yaml:1: store: "keychian" is not valid; did you mean "keychain"?`, schemaRefuses},

	{"provider store typo", `providers:
  - name: github
    issuer: https://github.com
    client_id: x
    store: files
`, `config.yaml:5: providers[0].store: "files" is not valid; did you mean "file"?`, schemaRefuses},

	{"unknown store", `providers:
  - name: github
    issuer: https://github.com
    client_id: x
    store: disk
`, `config.yaml:5: providers[0].store: "disk" is not valid; want one of "memory", "keychain" or "file"`, schemaRefuses},

	{"option name", `providers:
  - name: okta
    issuer: https://example.okta.com
    client_id: x
    options:
      customDomain: id.example.com
`, `config.yaml:6: providers[0].options.customDomain: option names are lower-case letters, digits and "_"`, schemaRefuses},

	{"option value not a string", `providers:
  - name: okta
    issuer: https://example.okta.com
    client_id: x
    options:
      port: 8443
`, `config.yaml:6: providers[0].options.port: want a string, got the number 8443; put it in quotes: "8443"`, schemaRefuses},

	{"duplicate names", `providers:
  - name: github
    issuer: https://github.com
    client_id: x
  - name: github
    issuer: https://github.example.com
    client_id: y
`, `config.yaml:5: providers[1].name: "github" is already the name of providers[0] (line 2); names must be unique`, schemaAccepts},

	{"names share environment variables", `providers:
  - name: my-gh
    issuer: https://github.com
    client_id: x
  - name: my_gh
    issuer: https://github.example.com
    client_id: y
`, `config.yaml:5: providers[1].name: "my_gh" and "my-gh" (providers[0]) share the environment variables MCPAUTH_PROVIDERS_MY_GH_*; rename one`, schemaAccepts},

	{"key set twice", `mode: lazy
mode: explicit
`, `config.yaml:2: mode: set twice (first on line 1)`, schemaNA},

	{"bad sha256", `plugin_dir: /opt/mcpauth/plugins
providers:
  - name: corp
    driver: external
    issuer: https://login.corp.example
    client_id: x
    plugin:
      path: corp-idp-driver
      sha256: 9f86d081884c7d659a2feaa0c55ad015
`, `config.yaml:9: providers[0].plugin.sha256: "9f86d081884c7d659a2feaa0c55ad015" is not a SHA-256: want 64 hexadecimal digits (sha256sum output), got 32 characters`, schemaRefuses},

	{"upper-case sha256", `plugin_dir: /opt/mcpauth/plugins
providers:
  - name: corp
    driver: external
    issuer: https://login.corp.example
    client_id: x
    plugin:
      path: corp-idp-driver
      sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08
`, `config.yaml:9: providers[0].plugin.sha256: write the digest in lower case`, schemaRefuses},

	{"plugin outside the directory", `plugin_dir: /opt/mcpauth/plugins
providers:
  - name: corp
    driver: external
    issuer: https://login.corp.example
    client_id: x
    plugin:
      path: ../../../usr/bin/corp-idp-driver
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
`, `config.yaml:8: providers[0].plugin.path: "../../../usr/bin/corp-idp-driver" is outside plugin_dir /opt/mcpauth/plugins`, schemaAccepts},

	{"absolute plugin outside the directory", `plugin_dir: /opt/mcpauth/plugins
providers:
  - name: corp
    driver: external
    issuer: https://login.corp.example
    client_id: x
    plugin:
      path: /opt/mcpauth/plugins-evil/corp
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
`, `config.yaml:8: providers[0].plugin.path: "/opt/mcpauth/plugins-evil/corp" is outside plugin_dir /opt/mcpauth/plugins`, schemaAccepts},

	{"plugin without sha256", `plugin_dir: /opt/mcpauth/plugins
providers:
  - name: corp
    driver: external
    issuer: https://login.corp.example
    client_id: x
    plugin:
      path: corp-idp-driver
`, `config.yaml:7: providers[0].plugin.sha256: required: the binary's SHA-256 (sha256sum output)`, schemaRefuses},

	{"plugin without driver external", `plugin_dir: /opt/mcpauth/plugins
providers:
  - name: corp
    issuer: https://login.corp.example
    client_id: x
    plugin:
      path: corp-idp-driver
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
`, `config.yaml:6: providers[0].plugin: only allowed with driver "external"`, schemaRefuses},

	{"driver external without plugin", `providers:
  - name: corp
    driver: external
    issuer: https://login.corp.example
    client_id: x
`, `config.yaml:2: providers[0].plugin: required with driver "external": the plugin's path and sha256`, schemaRefuses},

	{"external driver in process", `plugin_dir: /opt/mcpauth/plugins
providers:
  - name: corp
    driver: external
    issuer: https://login.corp.example
    client_id: x
    isolation: in-process
    plugin:
      path: corp-idp-driver
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
`, `config.yaml:7: providers[0].isolation: "in-process" is not possible with driver "external": a plugin always runs as a subprocess`, schemaRefuses},

	{"plugin env name", `plugin_dir: /opt/mcpauth/plugins
providers:
  - name: corp
    driver: external
    issuer: https://login.corp.example
    client_id: x
    plugin:
      path: corp-idp-driver
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
      env: [CORP-REGION]
`, `config.yaml:10: providers[0].plugin.env[0]: "CORP-REGION" is not an environment variable name`, schemaRefuses},

	{"client_secret a number", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    client_secret: 123456789
`, `config.yaml:5: providers[0].client_secret: want a string, got a number; put it in quotes`, schemaRefuses},

	{"client_secret a boolean", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    client_secret: true
`, `config.yaml:5: providers[0].client_secret: want a string, got a boolean; put it in quotes`, schemaRefuses},

	{"open_browser a string", "open_browser: sometimes\n", `config.yaml:1: open_browser: want true or false, got the string "sometimes"`, schemaRefuses},

	{"client_secret empty", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    client_secret: ""
`, `config.yaml:5: providers[0].client_secret: empty; remove the key or give a value`, schemaRefuses},

	{"client_secret a list", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    client_secret: [s3cr3t]
`, `config.yaml:5: providers[0].client_secret: want a string, got a list`, schemaRefuses},

	{"client_secret with a space", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    client_secret: "s3cr3t value"
`, `config.yaml:5: providers[0].client_secret: contains white space (a line break when copied?); the value is not shown`, schemaAccepts},

	{"display_name a number", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    display_name: 42
`, `config.yaml:5: providers[0].display_name: want a string, got the number 42; put it in quotes: "42"`, schemaRefuses},

	{"display_name on two lines", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    display_name: "Acme\nSSO"
`, `config.yaml:5: providers[0].display_name: "Acme\nSSO" contains a control character (a line break, say); write it on one line`, schemaAccepts},

	{"verification host is a URL", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    verification_hosts: [https://github.com/login/device]
`, `config.yaml:5: providers[0].verification_hosts[0]: "https://github.com/login/device" is a URL; give its host alone: "github.com"`, schemaRefuses},

	{"verification host in upper case", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    verification_hosts: [GitHub.com]
`, `config.yaml:5: providers[0].verification_hosts[0]: "GitHub.com": write host names in lower case`, schemaRefuses},

	{"verification host wildcard", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    verification_hosts: ["*.github.com"]
`, `config.yaml:5: providers[0].verification_hosts[0]: "*.github.com": wildcards are not supported; list each host`, schemaRefuses},

	{"verification host bare IPv6", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    verification_hosts: ["::1"]
`, `config.yaml:5: providers[0].verification_hosts[0]: "::1": write an IPv6 address in brackets: "[::1]"`, schemaRefuses},

	{"verification host bad port", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    verification_hosts: ["github.com:70000"]
`, `config.yaml:5: providers[0].verification_hosts[0]: "github.com:70000": the port must be 1 to 65535`, schemaAccepts},

	{"verification host bracketed IPv4", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    verification_hosts: ["[127.0.0.1]"]
`, `config.yaml:5: providers[0].verification_hosts[0]: "[127.0.0.1]": [127.0.0.1] is not an IPv6 address`, schemaAccepts},

	{"verification host with a space", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    verification_hosts: ["github .com"]
`, `config.yaml:5: providers[0].verification_hosts[0]: "github .com" is not a host: want a host name or IP address, with an optional ":port"`, schemaRefuses},

	{"verification_hosts a string", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    verification_hosts: github.com
`, `config.yaml:5: providers[0].verification_hosts: want a list of strings, got the string "github.com"`, schemaRefuses},

	{"api over http", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    apis: [http://api.example.com]
`, `config.yaml:5: providers[0].apis[0]: "http://api.example.com" must use https (http is allowed only on loopback: 127.0.0.1, [::1], localhost)`, schemaRefuses},

	{"api with a query", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    apis: ["https://api.example.com/v1?x=1"]
`, `config.yaml:5: providers[0].apis[0]: "https://api.example.com/v1?x=1" must not have a query (?…)`, schemaRefuses},

	{"api with a fragment", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    apis: ["https://api.example.com/#v1"]
`, `config.yaml:5: providers[0].apis[0]: "https://api.example.com/#v1" must not have a fragment (#…)`, schemaRefuses},

	{"api with user info", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    apis: ["https://bob:hunter2@api.example.com/v1"]
`, `config.yaml:5: providers[0].apis[0]: "https://…@api.example.com/v1" must not contain a user name or password`, schemaRefuses},

	{"api not absolute", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    apis: [api.example.com]
`, `config.yaml:5: providers[0].apis[0]: "api.example.com" is not an absolute URL`, schemaRefuses},

	{"endpoint relative without slash", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    endpoints:
      token: oauth/token
`, `config.yaml:6: providers[0].endpoints.token: "oauth/token" is neither an absolute URL nor a path starting with "/"`, schemaRefuses},

	{"endpoint over http", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    endpoints:
      device_authorization: http://login.example.com/device
`, `config.yaml:6: providers[0].endpoints.device_authorization: "http://login.example.com/device" must use https (http is allowed only on loopback: 127.0.0.1, [::1], localhost)`, schemaRefuses},

	{"endpoint naming another host", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    endpoints:
      token: //evil.example/token
`, `config.yaml:6: providers[0].endpoints.token: "//evil.example/token" starts with "//", which names another host; write an absolute URL or a path with one "/"`, schemaRefuses},

	{"endpoint with a fragment", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    endpoints:
      authorization: "/authorize#x"
`, `config.yaml:6: providers[0].endpoints.authorization: "/authorize#x" must not have a fragment (#…)`, schemaRefuses},

	{"endpoint key typo", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    endpoints:
      device: /device
`, `config.yaml:6: providers[0].endpoints.device: unknown field; did you mean "device_authorization"?`, schemaRefuses},

	{"endpoints a list", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    endpoints: [/token]
`, `config.yaml:5: providers[0].endpoints: want a mapping of keys, got a list`, schemaRefuses},

	{"extra param name", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    extra_params:
      Audience: https://api.example.com
`, `config.yaml:6: providers[0].extra_params.Audience: parameter names are lower-case letters, digits and "_"`, schemaRefuses},

	{"extra param reserved", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    extra_params:
      redirect_uri: https://evil.example/cb
`, `config.yaml:6: providers[0].extra_params.redirect_uri: mcpauth sets redirect_uri itself; use loopback_host and loopback_port`, schemaRefuses},

	{"extra param reserved, no key for it", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    extra_params:
      state: x
`, `config.yaml:6: providers[0].extra_params.state: mcpauth sets state itself`, schemaRefuses},

	{"extra param a number", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    extra_params:
      max_age: 300
`, `config.yaml:6: providers[0].extra_params.max_age: want a string, got the number 300; put it in quotes: "300"`, schemaRefuses},

	{"extra_params a list", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    extra_params: [audience]
`, `config.yaml:5: providers[0].extra_params: want a mapping of parameter names to strings, got a list`, schemaRefuses},

	{"loopback_host not loopback", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    loopback_host: 0.0.0.0
`, `config.yaml:5: providers[0].loopback_host: "0.0.0.0" is not valid; want one of "127.0.0.1", "localhost" or "::1"`, schemaRefuses},

	{"loopback_host typo", `providers:
  - name: x
    issuer: https://login.example.com
    client_id: c
    loopback_host: localhots
`, `config.yaml:5: providers[0].loopback_host: "localhots" is not valid; did you mean "localhost"?`, schemaRefuses},

	{"not YAML", `providers:
  - name: github
	issuer: https://github.com
`, `config.yaml:3: not valid YAML: a tab in the indentation; indent with spaces`, schemaNA},

	{"two documents", `mode: lazy
---
mode: explicit
`, `config.yaml:2: a second YAML document; a config file holds one`, schemaNA},

	{"not a mapping", `- name: github
`, `config.yaml:1: want a mapping of keys such as mode and providers, got a list`, schemaRefuses},
}

func TestBadFiles(t *testing.T) {
	for _, tt := range badFiles {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseWith("config.yaml", []byte(tt.yaml), LoadOptions{Drivers: builtinDrivers})
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want %s", f, tt.want)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is a %T, want *ValidationError", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n  %s\nwant\n  %s", err, tt.want)
			}
		})
	}
}
