package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/internal/suggest"
	"github.com/mcpauth/mcpauth/provider"
	"go.yaml.in/yaml/v3"
)

// The config is decoded from the YAML node tree by hand rather than with
// yaml.Unmarshal into tagged structs: walking the nodes keeps the line of
// every value, so a problem found later (a duplicate name, a plugin outside
// the plugin directory) still points at its line, and every message is
// worded here ("want a list of strings, got a string") instead of being
// rewritten from the YAML library's.

// Keys of each mapping, in documentation order.
var (
	fileKeys     = []string{"mode", "login_timeout", "plugin_dir", "store", "open_browser", "providers"}
	providerKeys = []string{"name", "display_name", "driver", "issuer", "resource", "client_id", "client_secret",
		"client_id_metadata_document", "scopes", "apis", "grant", "loopback_host", "loopback_port",
		"verification_hosts", "isolation", "store", "plugin", "options", "endpoints", "extra_params"}
	pluginKeys = []string{"path", "sha256", "env"}
)

// endpointKeys pairs each key of a provider's endpoints mapping with its
// field of provider.Endpoints (a test checks it covers every field).
var endpointKeys = []struct {
	key   string
	field func(*provider.Endpoints) *string
}{
	{"authorization", func(e *provider.Endpoints) *string { return &e.Authorization }},
	{"token", func(e *provider.Endpoints) *string { return &e.Token }},
	{"device_authorization", func(e *provider.Endpoints) *string { return &e.DeviceAuthorization }},
	{"revocation", func(e *provider.Endpoints) *string { return &e.Revocation }},
	{"userinfo", func(e *provider.Endpoints) *string { return &e.Userinfo }},
}

// endpointNames lists the keys of endpointKeys.
func endpointNames() []string {
	out := make([]string, len(endpointKeys))
	for i, e := range endpointKeys {
		out[i] = e.key
	}
	return out
}

// endpoint returns the field of e that key names, or nil.
func endpoint(e *provider.Endpoints, key string) *string {
	for _, ek := range endpointKeys {
		if ek.key == key {
			return ek.field(e)
		}
	}
	return nil
}

// origin is where a value came from: a line of the file, an environment
// variable, or a provider the server's code declared.
type origin struct {
	line int
	env  string
	// dflt marks a server default (LoadOptions.Defaults); provider is
	// then the provider's name, for messages.
	dflt     bool
	provider string
}

// decoder turns YAML and environment variables into a File, collecting
// problems rather than stopping at the first.
type decoder struct {
	name     string
	drivers  []string          // LoadOptions.Drivers
	origins  map[string]origin // by field path: "providers[0].grant"
	problems []Problem
}

func newDecoder(name string) *decoder {
	return &decoder{name: name, origins: make(map[string]origin)}
}

// origin returns where path (or, if path itself is not set, its closest
// parent) came from.
func (d *decoder) origin(path string) origin {
	for {
		if o, ok := d.origins[path]; ok {
			return o
		}
		if path == "" {
			return origin{}
		}
		path = parentPath(path)
	}
}

// parentPath strips the last ".key" or "[i]" from path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// problem records a problem with the value at path, located at its origin.
func (d *decoder) problem(path, format string, args ...any) {
	o := d.origin(path)
	p := Problem{File: d.name, Line: o.line, Env: o.env, Field: path, Message: fmt.Sprintf(format, args...)}
	if o.dflt {
		p.File, p.Default, p.Provider = "", true, o.provider
	}
	d.problems = append(d.problems, p)
}

// problemAt records a problem located at node n's line.
func (d *decoder) problemAt(n *yaml.Node, path, format string, args ...any) {
	d.problems = append(d.problems, Problem{File: d.name, Line: n.Line, Field: path, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	sortProblems(d.problems)
	return &ValidationError{Problems: d.problems}
}

// yamlLine splits the YAML library's "yaml: line 3: message".
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decode parses data into a File, or returns nil when data is not YAML.
func (d *decoder) decode(data []byte) *File {
	f := &File{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) { // empty, or only comments
			return f
		}
		d.syntaxError(data, err)
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			d.syntaxError(data, err)
		} else {
			d.problemAt(&next, "", "a second YAML document; a config file holds one")
		}
		return nil
	}
	root := deref(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f
	}
	d.mapping(root, "", fileKeys, func(key string, v *yaml.Node, path string) {
		switch key {
		case "mode":
			f.Mode, _ = d.str(v, path)
		case "login_timeout":
			if v.Kind == yaml.ScalarNode && (v.Tag == "!!int" || v.Tag == "!!float") {
				d.problemAt(v, path, "want a duration such as \"5m\" or \"90s\", got the number %s (a duration needs a unit)", v.Value)
			} else if s, ok := d.str(v, path); ok {
				f.LoginTimeout, _ = d.duration(s, path)
			}
		case "plugin_dir":
			f.PluginDir, _ = d.str(v, path)
		case "store":
			f.Store, _ = d.str(v, path)
		case "open_browser":
			if v = deref(v); v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
				f.OpenBrowser, _ = strconv.ParseBool(v.Value)
			} else {
				d.problemAt(v, path, "want true or false, got %s", describe(v))
			}
		case "providers":
			f.Providers = d.providers(v, path)
		}
	})
	return f
}

func (d *decoder) syntaxError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if strings.Contains(msg, "tab character") {
		// The library points at the line before; name the tab's own line.
		for i, l := range strings.Split(string(data), "\n") {
			if indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]; strings.Contains(indent, "\t") {
				line, msg = i+1, "a tab in the indentation; indent with spaces"
				break
			}
		}
	}
	d.problems = append(d.problems, Problem{File: d.name, Line: line, Message: "not valid YAML: " + msg})
}

// deref follows an alias (*anchor) to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names what a node holds, for "want X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return fmt.Sprintf("%s %s", n.Tag, n.Value)
	}
	return "something else"
}

// mapping walks a mapping node: every key must be a known one, and appear
// once. fn gets each value with its path, and records the value's line.
func (d *decoder) mapping(n *yaml.Node, path string, keys []string, fn func(key string, v *yaml.Node, path string)) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		what := "a mapping of keys"
		if path == "" {
			what = "a mapping of keys such as mode and providers"
		}
		d.problemAt(n, path, "want %s, got %s", what, describe(n))
		return
	}
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		key := k.Value
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		switch {
		case k.Kind != yaml.ScalarNode:
			d.problemAt(k, path, "a key must be a plain name, got %s", describe(k))
			continue
		case key == "<<":
			d.problemAt(k, path, "merge keys (<<) are not supported; write the keys out")
			continue
		case !contains(keys, key):
			if s := suggest.Closest(key, keys); s != "" {
				d.problemAt(k, sub, "unknown field; did you mean %q?", s)
			} else {
				d.problemAt(k, sub, "unknown field; want %s", oneOf(keys))
			}
			continue
		}
		if first, dup := seen[key]; dup {
			d.problemAt(k, sub, "set twice (first on line %d)", first)
			continue
		}
		seen[key] = k.Line
		d.origins[sub] = origin{line: k.Line}
		fn(key, v, sub)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str reads a non-empty string. Numbers and booleans are refused rather
// than converted: YAML reads 1234.50 as a float, and a client ID that lost
// its trailing zero fails far from here.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		if n.Tag == "!!null" && n.Value == "~" {
			d.problemAt(n, path, "~ alone means null in YAML; for the home directory write \"~\"")
		} else if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
			d.problemAt(n, path, "want a string, got %s; put it in quotes: %q", describe(n), n.Value)
		} else {
			d.problemAt(n, path, "want a string, got %s", describe(n))
		}
		return "", false
	}
	if n.Value == "" {
		d.problemAt(n, path, "empty; remove the key or give a value")
		return "", false
	}
	return n.Value, true
}

// strings reads a list of strings; an empty list is allowed.
func (d *decoder) strings(n *yaml.Node, path string) []string {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		d.problemAt(n, path, "want a list of strings, got %s", describe(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		d.origins[sub] = origin{line: item.Line}
		if s, ok := d.str(item, sub); ok {
			out = append(out, s)
		}
	}
	return out
}

// goDuration is what the JSON Schema's login_timeout pattern allows: Go
// durations without sign or bare zero ("5m", "1h30m", "90s", "1.5h").
var goDuration = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`)

func (d *decoder) duration(s, path string) (time.Duration, bool) {
	if !goDuration.MatchString(s) {
		d.problem(path, "%q is not a duration; write it like \"5m\", \"90s\" or \"1h30m\"", s)
		return 0, false
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		d.problem(path, "%q: %v", s, err)
		return 0, false
	}
	return v, true
}

func (d *decoder) providers(n *yaml.Node, path string) []Provider {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		d.problemAt(n, path, "want a list of providers (each item starting with \"- name:\"), got %s", describe(n))
		return nil
	}
	out := make([]Provider, len(n.Content))
	for i, item := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		d.origins[sub] = origin{line: item.Line}
		d.provider(item, sub, &out[i])
	}
	return out
}

func (d *decoder) provider(n *yaml.Node, path string, p *Provider) {
	d.mapping(n, path, providerKeys, func(key string, v *yaml.Node, path string) {
		switch key {
		case "name":
			p.Name, _ = d.str(v, path)
		case "display_name":
			p.DisplayName, _ = d.str(v, path)
		case "driver":
			p.Driver, _ = d.str(v, path)
		case "issuer":
			p.Issuer, _ = d.str(v, path)
		case "resource":
			p.Resource, _ = d.str(v, path)
		case "client_id":
			p.ClientID, _ = d.str(v, path)
		case "client_secret":
			p.ClientSecret, _ = d.secret(v, path)
		case "client_id_metadata_document":
			p.ClientIDMetadataDocument, _ = d.str(v, path)
		case "scopes":
			p.Scopes = d.strings(v, path)
		case "apis":
			p.APIs = d.strings(v, path)
		case "grant":
			p.Grant, _ = d.str(v, path)
		case "loopback_host":
			p.LoopbackHost, _ = d.str(v, path)
		case "verification_hosts":
			p.VerificationHosts = d.strings(v, path)
		case "loopback_port":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
				d.problemAt(v, path, "want a port number from 0 to 65535, got %s", describe(v))
				return
			}
			if err := v.Decode(&p.LoopbackPort); err != nil || p.LoopbackPort < 0 || p.LoopbackPort > 65535 {
				d.problemAt(v, path, "%s is not a port number (0 to 65535; 0 picks a free port)", v.Value)
			}
		case "isolation":
			p.Isolation, _ = d.str(v, path)
		case "store":
			p.Store, _ = d.str(v, path)
		case "plugin":
			p.Plugin = &Plugin{}
			d.mapping(v, path, pluginKeys, func(key string, v *yaml.Node, path string) {
				switch key {
				case "path":
					p.Plugin.Path, _ = d.str(v, path)
				case "sha256":
					p.Plugin.SHA256, _ = d.str(v, path)
				case "env":
					p.Plugin.Env = d.strings(v, path)
				}
			})
		case "options":
			p.Options = d.stringMap(v, path, "option")
		case "endpoints":
			d.mapping(v, path, endpointNames(), func(key string, v *yaml.Node, path string) {
				*endpoint(&p.Endpoints, key), _ = d.str(v, path)
			})
		case "extra_params":
			p.ExtraParams = d.stringMap(v, path, "parameter")
		}
	})
}

// article is "a" or "an", for word.
func article(word string) string {
	if strings.ContainsAny(word[:1], "aeiou") {
		return "an"
	}
	return "a"
}

// secret reads a non-empty string like str, but no message quotes the
// value: it may be a client secret.
func (d *decoder) secret(n *yaml.Node, path string) (string, bool) {
	n = deref(n)
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str" && n.Value == "":
		d.problemAt(n, path, "empty; remove the key or give a value")
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		return n.Value, true
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		d.problemAt(n, path, "want a string, got nothing (null)")
	case n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float"):
		d.problemAt(n, path, "want a string, got a number; put it in quotes")
	case n.Kind == yaml.ScalarNode && n.Tag == "!!bool":
		d.problemAt(n, path, "want a string, got a boolean; put it in quotes")
	case n.Kind == yaml.ScalarNode:
		d.problemAt(n, path, "want a string, got a %s value; put it in quotes", n.Tag)
	default:
		d.problemAt(n, path, "want a string, got %s", describe(n))
	}
	return "", false
}

// stringMap reads a mapping of names (of an option, a parameter: what) to
// string values.
func (d *decoder) stringMap(n *yaml.Node, path, what string) map[string]string {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.problemAt(n, path, "want a mapping of %s names to strings, got %s", what, describe(n))
		return nil
	}
	out := make(map[string]string, len(n.Content)/2)
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		sub := path + "." + k.Value
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			d.problemAt(k, path, "%s %s name must be a string, got %s", article(what), what, describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.problemAt(k, sub, "set twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		d.origins[sub] = origin{line: k.Line}
		if s, ok := d.str(v, sub); ok {
			out[k.Value] = s
		}
	}
	return out
}
