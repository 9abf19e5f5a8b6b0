package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// Values of File.Mode.
const (
	// ModeLazy lists every tool; a protected tool called without a token
	// starts the authorization itself (the default).
	ModeLazy = "lazy"
	// ModeExplicit lists only auth_login and auth_status until the user has
	// logged in.
	ModeExplicit = "explicit"
)

// Names of the built-in drivers, and DriverExternal. Provider.Driver may
// name any driver of the registry's catalogue (LoadOptions.Drivers); an
// empty Driver means "resolve it from the issuer" (a driver that claims the
// issuer, else the generic oidc driver).
const (
	DriverOIDC     = "oidc"
	DriverGitHub   = "github"
	DriverSlack    = "slack"
	DriverOkta     = "okta"
	DriverExternal = "external" // a plugin binary named by Provider.Plugin
)

// Values of Provider.Grant.
const (
	GrantAuto   = "auto" // PKCE with a local browser, else the device grant (the default)
	GrantDevice = "device"
	GrantPKCE   = "pkce"
)

// Values of File.Store and Provider.Store: where logins are kept.
const (
	// StoreMemory keeps tokens in the server process only (the default, as
	// SEP-2059 asks): every restart logs in again, nothing is on disk.
	StoreMemory = "memory"
	// StoreKeychain keeps them in the OS keychain (Secret Service, macOS
	// Keychain, Windows Credential Manager), shared by the user's processes.
	StoreKeychain = "keychain"
	// StoreFile keeps them in AES-GCM encrypted files, the key in the
	// keychain when it is reachable, else in a 0600 key file beside them.
	StoreFile = "file"
)

// Values of Provider.LoopbackHost; an empty LoopbackHost leaves the choice
// to the driver (127.0.0.1 unless it knows better).
const (
	LoopbackIPv4      = "127.0.0.1"
	LoopbackLocalhost = "localhost"
	LoopbackIPv6      = "::1"
)

// Values of Provider.Isolation.
const (
	// IsolationSubprocess runs the driver in a child process (the default).
	IsolationSubprocess = "subprocess"
	// IsolationInProcess runs a built-in driver inside the host process,
	// for environments that forbid exec. External drivers cannot.
	IsolationInProcess = "in-process"
)

// Defaults filled in by Load and Parse.
const (
	DefaultMode         = ModeLazy
	DefaultLoginTimeout = 5 * time.Minute
	DefaultGrant        = GrantAuto
	DefaultIsolation    = IsolationSubprocess
	DefaultStore        = StoreMemory
)

// Where Find found the config file (its second result).
const (
	SourceFlag    = "--config"
	SourceEnv     = "MCPAUTH_CONFIG"
	SourceDefault = "default"
)

var (
	// ErrNotFound: no config file was named and the default location has none.
	ErrNotFound = errors.New("config: no config file")
	// ErrNoProviders: neither the server's code, a config file nor the
	// environment configures any provider. See NoProvidersError.
	ErrNoProviders = errors.New("config: no providers configured")
	// ErrOutsidePluginDir: a plugin path leads out of the plugin directory,
	// as written or through a symbolic link.
	ErrOutsidePluginDir = errors.New("config: plugin is outside the plugin directory")
)

// File is a config file after parsing, environment overrides, defaults and
// validation: every field holds a valid value. The yaml tags name the keys;
// decoding does not use them (see decode.go), a test checks them against the
// JSON Schema.
type File struct {
	// Mode is ModeLazy or ModeExplicit.
	Mode string `yaml:"mode"`
	// LoginTimeout bounds one interactive authorization; positive.
	LoginTimeout time.Duration `yaml:"login_timeout"`
	// PluginDir is the absolute directory external driver plugins must
	// live in ("~" expanded, a relative path taken from the config file's
	// directory). Default: os.UserConfigDir()/mcpauth/plugins; empty only
	// when that cannot be determined and no provider needs it.
	PluginDir string `yaml:"plugin_dir"`
	// Store is where logins are kept unless a provider says otherwise:
	// StoreMemory (the default), StoreKeychain or StoreFile.
	Store string `yaml:"store"`
	// OpenBrowser says whether a server may open the user's desktop browser
	// for a browser login the MCP client cannot show a link for (never over
	// SSH or in a container). Default true.
	OpenBrowser bool `yaml:"open_browser"`
	// Providers are the configured providers: the file's entries (each
	// merged over the server default of the same name, if any), then the
	// server defaults the file does not name, then those added by
	// MCPAUTH_PROVIDERS. Names are unique.
	Providers []Provider `yaml:"providers"`

	// set holds the top-level keys the file or the environment set.
	set map[string]bool
}

// IsSet reports whether the top-level key ("mode", "login_timeout",
// "plugin_dir", "store" or "open_browser") was set by the config file or an environment variable,
// rather than left to its default. A server whose code chose a mode or a
// login timeout of its own uses it to tell when the user's choice wins.
// An environment variable set to "" restores the default: the key is then
// not set. Any other key is reported as not set.
func (f *File) IsSet(key string) bool { return f.set[key] }

// Provider is one issuer (or API) a server can obtain tokens for: the one
// description of a provider, whether it comes from the config file, the
// environment or the server's code (LoadOptions.Defaults).
type Provider struct {
	// Name is unique, [a-z0-9_-]+: what tools ask for (Need("github")).
	Name string `yaml:"name"`
	// DisplayName names the provider to users ("GitHub"); "" means Name.
	DisplayName string `yaml:"display_name"`
	// Driver is a driver of the registry's catalogue (DriverOIDC,
	// DriverGitHub, … for the built-in ones), DriverExternal, or "" to
	// resolve it from the issuer.
	Driver string `yaml:"driver"`
	// Issuer is the authorization server's issuer URL. Exactly one of
	// Issuer and Resource is set. https, or http on a loopback host.
	Issuer string `yaml:"issuer"`
	// Resource is an API URL whose RFC 9728 metadata names the
	// authorization server.
	Resource string `yaml:"resource"`
	// ClientID is the OAuth client ID; set unless ClientIDMetadataDocument is.
	ClientID string `yaml:"client_id"`
	// ClientSecret authenticates the client where the issuer wants one even
	// for a native app (Google; GitHub's code exchange). It never appears in
	// an error message.
	ClientSecret string `yaml:"client_secret"`
	// ClientIDMetadataDocument is an https URL with a path used as
	// client_id where the server supports Client ID Metadata Documents.
	ClientIDMetadataDocument string `yaml:"client_id_metadata_document"`
	// Scopes to request; nil means the driver's defaults.
	Scopes []string `yaml:"scopes"`
	// Grant is GrantAuto, GrantDevice or GrantPKCE.
	Grant string `yaml:"grant"`
	// LoopbackHost is the PKCE redirect listener's host: LoopbackIPv4,
	// LoopbackLocalhost, LoopbackIPv6, or "" for the driver's default.
	LoopbackHost string `yaml:"loopback_host"`
	// LoopbackPort is the PKCE redirect listener's port, 0 for any free one.
	LoopbackPort int `yaml:"loopback_port"`
	// Isolation is IsolationSubprocess or IsolationInProcess.
	Isolation string `yaml:"isolation"`
	// Store is where this provider's logins are kept: StoreMemory,
	// StoreKeychain or StoreFile. After Load it is the effective setting:
	// the provider's own, else File.Store, else DefaultStore.
	Store string `yaml:"store"`
	// Plugin is set exactly when Driver is DriverExternal.
	Plugin *Plugin `yaml:"plugin"`
	// Options are driver-specific settings; keys are [a-z0-9_]+.
	Options map[string]string `yaml:"options"`
	// APIs are the API origins the provider's tokens may be sent to: https
	// URLs (http on a loopback host), each optionally with a path prefix.
	APIs []string `yaml:"apis"`
	// VerificationHosts are hosts, besides the issuer's, that a URL shown
	// to the user (a device grant's verification_uri) may have: bare host
	// names or IP addresses, each with an optional ":port".
	VerificationHosts []string `yaml:"verification_hosts"`
	// Endpoints override endpoints of the discovered metadata: absolute
	// URLs, or paths starting with "/" on the issuer's origin.
	Endpoints provider.Endpoints `yaml:"endpoints"`
	// ExtraParams are sent with every authorization, device authorization
	// and token request (an Auth0 audience); names are [a-z0-9_]+ and none
	// is a parameter mcpauth sets itself.
	ExtraParams map[string]string `yaml:"extra_params"`
}

// String formats p as %+v would, with ClientSecret redacted, so that
// printing a configuration (in an error, a log line) never shows it.
func (p Provider) String() string {
	type fields Provider // without this method
	if p.ClientSecret != "" {
		p.ClientSecret = "REDACTED"
	}
	return fmt.Sprintf("%+v", fields(p))
}

// Plugin names an external driver binary.
type Plugin struct {
	// Path is relative to File.PluginDir, or absolute inside it. Use
	// Resolve before running it.
	Path string `yaml:"path"`
	// SHA256 is the binary's SHA-256, 64 lowercase hex digits, checked
	// before every start.
	SHA256 string `yaml:"sha256"`
	// Env lists the host environment variables the plugin may see; it
	// sees no other.
	Env []string `yaml:"env"`
}

// LoadOptions are the inputs of a configuration besides the file.
type LoadOptions struct {
	// Environ is the environment ("KEY=value"), as os.Environ returns; nil
	// means none.
	Environ []string
	// Defaults are providers declared in code by the server's author. A
	// file entry with the same name overrides them field by field (a user
	// can change just client_id); providers the file does not name are kept
	// as they are.
	Defaults []Provider
	// Drivers are the driver names the registry knows, for validation; nil
	// accepts any well-formed name. DriverExternal is always valid.
	Drivers []string
}

// LoadWith reads the config file at path and builds the configuration,
// in this order of precedence, lowest first and field by field: o.Defaults,
// the file, the MCPAUTH_* variables of o.Environ (see the package
// documentation); then defaults are filled in and the result validated. An
// empty path means no file. Invalid content is reported as a
// *ValidationError.
func LoadWith(path string, o LoadOptions) (*File, error) {
	if path == "" {
		return ParseWith("", nil, o)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseWith(path, data, o)
}

// ParseWith is LoadWith for config data already read. name is the file
// name used in messages ("config.yaml:7: …") and the directory a relative
// plugin_dir is taken from; "" for no file.
func ParseWith(name string, data []byte, o LoadOptions) (*File, error) {
	d := newDecoder(name)
	d.drivers = o.Drivers
	f := d.decode(data)
	if f == nil { // unreadable YAML: nothing more can be said
		return nil, d.err()
	}
	d.mergeDefaults(f, o.Defaults)
	d.applyEnv(f, o.Environ)
	d.setDefaults(f)
	d.validate(f)
	if err := d.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// Load is LoadWith with this process's environment.
func Load(path string) (*File, error) {
	return LoadWith(path, LoadOptions{Environ: os.Environ()})
}

// LoadEnv is LoadWith with an explicit environment only.
func LoadEnv(path string, environ []string) (*File, error) {
	return LoadWith(path, LoadOptions{Environ: environ})
}

// Parse parses and validates the YAML config data without environment
// overrides or server defaults.
func Parse(name string, data []byte) (*File, error) {
	return ParseWith(name, data, LoadOptions{})
}

// ParseEnv is Parse followed by the environment overrides in environ.
func ParseEnv(name string, data []byte, environ []string) (*File, error) {
	return ParseWith(name, data, LoadOptions{Environ: environ})
}

// Find says which config file to use: flagValue (a --config flag) if set,
// else $MCPAUTH_CONFIG, else os.UserConfigDir()/mcpauth/config.yaml. source
// is SourceFlag, SourceEnv or SourceDefault. A named file is returned whether
// or not it exists (Load reports it); when the default file does not exist,
// Find returns its path with an error wrapping ErrNotFound, and a caller that
// runs from the environment alone (docker run -e …) passes "" to Load.
func Find(flagValue string) (path, source string, err error) {
	if flagValue != "" {
		return flagValue, SourceFlag, nil
	}
	if p := os.Getenv("MCPAUTH_CONFIG"); p != "" {
		return p, SourceEnv, nil
	}
	path, err = DefaultPath()
	if err != nil {
		return "", SourceDefault, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return path, SourceDefault, fmt.Errorf("%w: --config not given, MCPAUTH_CONFIG not set, and %s does not exist", ErrNotFound, path)
	}
	return path, SourceDefault, nil
}

// DefaultPath is os.UserConfigDir()/mcpauth/config.yaml.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config: no default config location: %w", err)
	}
	return filepath.Join(dir, "mcpauth", "config.yaml"), nil
}

// defaultPluginDir is os.UserConfigDir()/mcpauth/plugins, or "".
func defaultPluginDir() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "mcpauth", "plugins")
}

// absPluginDir expands "~" and makes dir absolute, a relative dir being taken
// from base (the config file's directory, or the working directory).
func absPluginDir(dir, base string) (string, error) {
	if dir == "~" || strings.HasPrefix(dir, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot expand ~: %v", err)
		}
		dir = filepath.Join(home, dir[1:])
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(base, dir)
	}
	return filepath.Abs(dir)
}

func (d *decoder) setDefaults(f *File) {
	_, timeout := d.origins["login_timeout"]
	_, browser := d.origins["open_browser"]
	for key, set := range map[string]bool{"mode": f.Mode != "", "login_timeout": timeout, "plugin_dir": f.PluginDir != "", "store": f.Store != "", "open_browser": browser} {
		if set {
			if f.set == nil {
				f.set = make(map[string]bool)
			}
			f.set[key] = true
		}
	}
	if f.Mode == "" {
		f.Mode = DefaultMode
	}
	if _, set := d.origins["login_timeout"]; !set {
		f.LoginTimeout = DefaultLoginTimeout
	}
	if !browser {
		f.OpenBrowser = true
	}
	if f.Store == "" {
		f.Store = DefaultStore
	}
	if f.PluginDir == "" {
		f.PluginDir = defaultPluginDir()
	} else {
		base := "."
		if d.origin("plugin_dir").env == "" && d.name != "" {
			base = filepath.Dir(d.name)
		}
		dir, err := absPluginDir(f.PluginDir, base)
		if err != nil {
			d.problem("plugin_dir", "%s", err)
		}
		f.PluginDir = dir
	}
	for i := range f.Providers {
		p := &f.Providers[i]
		if p.Grant == "" {
			p.Grant = DefaultGrant
		}
		if p.Isolation == "" {
			p.Isolation = DefaultIsolation
		}
		if p.Store == "" {
			p.Store = f.Store
		}
	}
}
