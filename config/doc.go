// Package config reads the mcpauth config file: which identity providers a
// stdio MCP server may obtain tokens from, and how.
//
//	path, source, findErr := config.Find(flagValue) // --config, $MCPAUTH_CONFIG, or the default
//	if errors.Is(findErr, config.ErrNotFound) {
//		path = "" // no file: defaults and environment variables only
//	}
//	cfg, err := config.LoadWith(path, config.LoadOptions{
//		Environ:  os.Environ(),
//		Defaults: []config.Provider{{Name: "github", Issuer: "https://github.com", ClientID: "Iv1.…"}},
//		Drivers:  []string{"oidc", "github"}, // the registry's catalogue
//	})
//	if err != nil {
//		log.Fatal(err) // "config.yaml:7: providers[0].grant: "devise" is not valid; did you mean "device"?"
//	}
//	if len(cfg.Providers) == 0 {
//		log.Fatal(config.NoProvidersError(config.Searched{Path: path, Source: source, Err: findErr, Environ: os.Environ()}))
//	}
//	for _, p := range cfg.Providers { … }
//
// Precedence is field by field, lowest first: providers the server's code
// declares (LoadOptions.Defaults), the file, the environment. A file entry
// naming a default changes only the keys it sets. File.IsSet tells whether
// the user set mode, login_timeout or plugin_dir.
//
// The file is YAML with exactly these keys (docs/config.md is the
// reference, mcpauth.schema.json the JSON Schema for editors):
//
//	mode: lazy                  # lazy | explicit
//	login_timeout: 5m           # Go duration
//	plugin_dir: ~/.config/mcpauth/plugins
//	providers:
//	  - name: github            # unique, [a-z0-9_-]+
//	    display_name: GitHub    # shown to users; default: name
//	    driver: github          # a driver of the registry (oidc, github, …) or external; default from the issuer
//	    issuer: https://github.com   # or resource: an API URL (RFC 9728); exactly one
//	    client_id: Iv1.0123456789abcdef   # unless client_id_metadata_document is set
//	    client_secret: …        # only for issuers that want one; never shown in errors
//	    client_id_metadata_document: https://app.example.com/oauth/client.json
//	    scopes: [repo, read:org]
//	    apis: [https://api.github.com]    # where its tokens may be sent
//	    grant: auto             # auto | device | pkce
//	    loopback_host: 127.0.0.1          # 127.0.0.1 | localhost | ::1; default: the driver's
//	    loopback_port: 0        # 0..65535
//	    verification_hosts: [github.com]  # hosts allowed in a URL shown to the user
//	    isolation: subprocess   # subprocess | in-process
//	    plugin:                 # only with driver: external
//	      path: corp-idp-driver # inside plugin_dir
//	      sha256: <64 lower-case hex digits>
//	      env: [CORP_IDP_REGION]
//	    options: {}             # driver-specific strings
//	    endpoints: {device_authorization: /login/device/code}   # metadata overrides
//	    extra_params: {audience: https://api.example.com}      # sent on every request
//
// # Environment variables
//
// Every setting can be overridden for one run (docker run --rm -e …):
//
//	MCPAUTH_MODE, MCPAUTH_LOGIN_TIMEOUT, MCPAUTH_PLUGIN_DIR
//	MCPAUTH_PROVIDERS=github,slack            adds providers the file lacks
//	MCPAUTH_PROVIDERS_<NAME>_<KEY>            e.g. MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID
//	MCPAUTH_PROVIDERS_<NAME>_PLUGIN_<KEY>     e.g. MCPAUTH_PROVIDERS_CORP_PLUGIN_SHA256
//	MCPAUTH_PROVIDERS_<NAME>_OPTIONS_<KEY>    e.g. MCPAUTH_PROVIDERS_OKTA_OPTIONS_AUTHORIZATION_SERVER_ID
//	MCPAUTH_PROVIDERS_<NAME>_EXTRA_PARAMS_<KEY>, MCPAUTH_PROVIDERS_<NAME>_ENDPOINTS_<KEY>  likewise
//
// <NAME> is the provider's name in upper case with "-" written "_"; <KEY>
// the key in upper case. Lists are separated by commas or spaces; an empty
// value removes the setting. A variable under MCPAUTH_PROVIDERS_ that names
// no provider or no key is an error, so a typo cannot go unnoticed.
//
// # Validation
//
// Load and Parse return a *ValidationError listing every problem with the
// file name, line and key, and the closest valid value for a typo. They
// refuse unknown keys, values of the wrong type (a number where a string
// belongs must be quoted), http issuers and resources except on loopback
// (RFC 8414 §2, RFC 8252 §8.3), a client_id_metadata_document that is not an
// https URL with a path (SEP-991), a missing client ID, duplicate names,
// drivers the registry does not know (LoadOptions.Drivers), unknown grants
// and modes, extra_params that mcpauth sets itself, a malformed sha256, and
// a plugin path outside plugin_dir. A client secret is never quoted. Plugin.Resolve repeats the last check after following
// symbolic links, when the plugin is about to run.
package config
