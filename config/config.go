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

// Values of Provider.Driver. An empty Driver means "resolve it from the
// issuer" (a driver that claims the issuer, else the generic oidc driver).
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
)

// Where Find found the config file (its second result).
const (
	SourceFlag    = "--config"
	SourceEnv     = "MCPAUTH_CONFIG"
	SourceDefault = "default"
)

// ErrNotFound: no config file was named and the default location has none.
var ErrNotFound = errors.New("config: no config file")

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
	// Providers are the configured providers, file entries first, then
	// those added by MCPAUTH_PROVIDERS. Names are unique.
	Providers []Provider `yaml:"providers"`
}

// Provider is one issuer (or API) a server can obtain tokens for.
type Provider struct {
	// Name is unique, [a-z0-9_-]+: what tools ask for (Need("github")).
	Name string `yaml:"name"`
	// Driver is DriverOIDC, DriverGitHub, DriverSlack, DriverOkta,
	// DriverExternal, or "" to resolve it from the issuer.
	Driver string `yaml:"driver"`
	// Issuer is the authorization server's issuer URL. Exactly one of
	// Issuer and Resource is set. https, or http on a loopback host.
	Issuer string `yaml:"issuer"`
	// Resource is an API URL whose RFC 9728 metadata names the
	// authorization server.
	Resource string `yaml:"resource"`
	// ClientID is the OAuth client ID; set unless ClientIDMetadataDocument is.
	ClientID string `yaml:"client_id"`
	// ClientIDMetadataDocument is an https URL with a path used as
	// client_id where the server supports Client ID Metadata Documents.
	ClientIDMetadataDocument string `yaml:"client_id_metadata_document"`
	// Scopes to request; nil means the driver's defaults.
	Scopes []string `yaml:"scopes"`
	// Grant is GrantAuto, GrantDevice or GrantPKCE.
	Grant string `yaml:"grant"`
	// LoopbackPort is the PKCE redirect listener's port, 0 for any free one.
	LoopbackPort int `yaml:"loopback_port"`
	// Isolation is IsolationSubprocess or IsolationInProcess.
	Isolation string `yaml:"isolation"`
	// Plugin is set exactly when Driver is DriverExternal.
	Plugin *Plugin `yaml:"plugin"`
	// Options are driver-specific settings; keys are [a-z0-9_]+.
	Options map[string]string `yaml:"options"`
	// ClientSecret authenticates the client where the issuer needs it.
	ClientSecret string `yaml:"client_secret"`
	// DisplayName names the provider to users.
	DisplayName string `yaml:"display_name"`
	// VerificationHosts are extra hosts allowed in a URL shown to the user.
	VerificationHosts []string `yaml:"verification_hosts"`
	// APIs are the API origins the provider's token may be sent to.
	APIs []string `yaml:"apis"`
	// Endpoints override discovered endpoints.
	Endpoints provider.Endpoints `yaml:"endpoints"`
	// ExtraParams are sent on authorization, device and token requests.
	ExtraParams map[string]string `yaml:"extra_params"`
	// LoopbackHost is the PKCE redirect host; empty means the driver's default.
	LoopbackHost string `yaml:"loopback_host"`
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

// Load reads the config file at path, applies this process's MCPAUTH_*
// environment variables (see the package documentation), fills in defaults
// and validates the result. An empty path means no file: defaults and the
// environment only. Invalid content is reported as a *ValidationError.
func Load(path string) (*File, error) {
	return LoadEnv(path, os.Environ())
}

// LoadEnv is Load with an explicit environment, a list of "KEY=value"
// strings as os.Environ returns.
func LoadEnv(path string, environ []string) (*File, error) {
	if path == "" {
		return ParseEnv("", nil, environ)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseEnv(path, data, environ)
}

// Parse parses and validates the YAML config data without environment
// overrides. name is the file name used in messages ("config.yaml:7: …")
// and the directory a relative plugin_dir is taken from.
func Parse(name string, data []byte) (*File, error) {
	return ParseEnv(name, data, nil)
}

// ParseEnv is Parse followed by the environment overrides in environ.
func ParseEnv(name string, data []byte, environ []string) (*File, error) {
	d := newDecoder(name)
	f := d.decode(data)
	if f == nil { // unreadable YAML: nothing more can be said
		return nil, d.err()
	}
	d.applyEnv(f, environ)
	d.setDefaults(f)
	d.validate(f)
	if err := d.err(); err != nil {
		return nil, err
	}
	return f, nil
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
	if f.Mode == "" {
		f.Mode = DefaultMode
	}
	if _, set := d.origins["login_timeout"]; !set {
		f.LoginTimeout = DefaultLoginTimeout
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
	}
}
