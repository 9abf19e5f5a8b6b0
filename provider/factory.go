package provider

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpauth/mcpauth/internal/suggest"
)

// DiscoverFunc finds an issuer's authorization-server metadata (RFC 8414,
// then OpenID Connect discovery). discovery.AuthServer is the default every
// driver uses when none is injected.
type DiscoverFunc func(ctx context.Context, issuer string) (*AuthServerMetadata, error)

// DriverConfig is what every driver is built from, whether it runs in the
// host process or as a plugin: one provider's configuration.
type DriverConfig struct {
	Issuer   string
	ClientID string
	// ClientSecret authenticates a confidential client. Some issuers want one
	// even for native apps (Google, GitHub's code exchange); it is then not
	// truly secret (RFC 8252 §8.5) but is still never logged.
	ClientSecret string
	Scopes       []string
	// Options are driver-specific settings from the config file (e.g. a
	// GitHub Enterprise API URL); drivers decode them with DecodeOptions.
	Options map[string]string
	// Endpoints override or add endpoints to the discovered metadata: a small
	// issuer quirk needs no driver of its own.
	Endpoints Endpoints
	// ExtraParams are sent with every authorization, device authorization and
	// token request (an Auth0 audience, say).
	ExtraParams map[string]string
	// Metadata, when the host already has it; drivers otherwise discover.
	Metadata *AuthServerMetadata
	// Discover replaces the default discovery (discovery.AuthServer); nil
	// means the default.
	Discover DiscoverFunc
}

// Endpoints are per-provider overrides of authorization-server metadata.
// Each is an absolute URL, or a path starting with "/" taken relative to
// the issuer's origin. Empty fields keep what discovery found.
type Endpoints struct {
	Authorization       string `json:"authorization,omitempty"`
	Token               string `json:"token,omitempty"`
	DeviceAuthorization string `json:"device_authorization,omitempty"`
	Revocation          string `json:"revocation,omitempty"`
	Userinfo            string `json:"userinfo,omitempty"`
}

// IsZero reports whether no endpoint is overridden.
func (e Endpoints) IsZero() bool { return e == Endpoints{} }

// Apply returns a copy of m with the overrides in e, each resolved against
// the issuer and checked like discovered endpoints.
func (e Endpoints) Apply(m *AuthServerMetadata) (*AuthServerMetadata, error) {
	if e.IsZero() {
		return m, nil
	}
	out := *m
	for _, f := range e.fields(&out) {
		if f.value == "" {
			continue
		}
		u, err := resolveEndpoint(m.Issuer, f.value)
		if err != nil {
			return nil, fmt.Errorf("provider: endpoints.%s: %w", f.name, err)
		}
		*f.target = u
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return &out, nil
}

type endpointField struct {
	name   string
	value  string
	target *string
}

// fields pairs each override with the metadata field it replaces.
func (e Endpoints) fields(m *AuthServerMetadata) []endpointField {
	return []endpointField{
		{"authorization", e.Authorization, &m.AuthorizationEndpoint},
		{"token", e.Token, &m.TokenEndpoint},
		{"device_authorization", e.DeviceAuthorization, &m.DeviceAuthorizationEndpoint},
		{"revocation", e.Revocation, &m.RevocationEndpoint},
		{"userinfo", e.Userinfo, &m.UserinfoEndpoint},
	}
}

// resolveEndpoint turns a path into a URL on the issuer's origin.
func resolveEndpoint(issuer, v string) (string, error) {
	if !strings.HasPrefix(v, "/") {
		return v, nil
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return "", err
	}
	return u.Scheme + "://" + u.Host + v, nil
}

// DriverFactory builds a driver. It must not make network requests: drivers
// discover lazily, at the first login.
type DriverFactory func(ctx context.Context, cfg DriverConfig) (Driver, error)

// Registration is one entry of a driver catalogue: what a registry needs to
// resolve a provider to a driver and build it. Catalogues are plain data
// (drivers.Builtin lists the built-in drivers); a host may add its own.
type Registration struct {
	// Name is the driver's name in configuration (driver: NAME).
	Name string
	// Claims reports whether the driver claims an issuer by its URL alone
	// (github.com, *.okta.com, …); nil claims none.
	Claims func(issuer string) bool
	// Claim says in words which issuers Claims accepts, for logs and
	// `mcpauth discover`.
	Claim string
	// New builds the driver. It decodes cfg.Options strictly (DecodeOptions)
	// and makes no request.
	New DriverFactory
}

// DecodeOptions decodes c.Options into the struct v points to, strictly: a
// key no field names is an error with a "did you mean" hint, so a typo in a
// config file is reported instead of silently ignored. Fields are matched
// by their `option:"name"` tag; string, bool, int and []string fields
// (space- or comma-separated) are supported.
func (c DriverConfig) DecodeOptions(driver string, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("%s: DecodeOptions wants a pointer to a struct, got %T", driver, v)
	}
	rv = rv.Elem()
	fields := map[string]reflect.Value{}
	var known []string
	for i := range rv.NumField() {
		name := rv.Type().Field(i).Tag.Get("option")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = rv.Field(i)
		known = append(known, name)
	}
	keys := make([]string, 0, len(c.Options))
	for k := range c.Options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Sort(known)
	for _, k := range keys {
		f, ok := fields[k]
		if !ok {
			return unknownOption(driver, k, known)
		}
		if err := setOption(f, c.Options[k]); err != nil {
			return fmt.Errorf("%s: options.%s: %w", driver, k, err)
		}
	}
	return nil
}

func unknownOption(driver, key string, known []string) error {
	accepted := "it takes none"
	if len(known) > 0 {
		accepted = "known: " + strings.Join(known, ", ")
	}
	if s := suggest.Closest(key, known); s != "" {
		return fmt.Errorf("%s: unknown option %q (did you mean %q? %s)", driver, key, s, accepted)
	}
	return fmt.Errorf("%s: unknown option %q (%s)", driver, key, accepted)
}

func setOption(f reflect.Value, s string) error {
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", s)
		}
		f.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("want a whole number, got %q", s)
		}
		f.SetInt(int64(n))
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported option type %s", f.Type())
		}
		f.Set(reflect.ValueOf(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })))
	default:
		return fmt.Errorf("unsupported option type %s", f.Type())
	}
	return nil
}
