package config

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/provider"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mcpauth.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mcpauth.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// schemaValidate validates YAML data against the schema, as an editor's
// YAML language server does: the YAML is read as JSON values.
func schemaValidate(t *testing.T, s *jsonschema.Schema, data string) error {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("YAML: %v", err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("YAML to JSON: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}

func TestSchemaAgrees(t *testing.T) {
	s := compileSchema(t)
	full, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"example": string(Example), "uncommented example": uncommentedExample(), "full": string(full)} {
		if err := schemaValidate(t, s, data); err != nil {
			t.Errorf("%s: Go accepts it, the schema refuses it: %v", name, err)
		}
	}
	for _, tt := range badFiles {
		if tt.schema == schemaNA {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			err := schemaValidate(t, s, tt.yaml)
			switch {
			case tt.schema == schemaRefuses && err == nil:
				t.Errorf("Go refuses it (%s), the schema accepts it", tt.want)
			case tt.schema == schemaAccepts && err != nil:
				// The schema learnt a rule: mark the case schemaRefuses.
				t.Errorf("the schema now refuses it too: %v", err)
			}
		})
	}
}

// schemaNode is the part of a JSON Schema the tests read.
type schemaNode struct {
	Ref                  string                `json:"$ref"`
	Type                 string                `json:"type"`
	Enum                 []string              `json:"enum"`
	Examples             []string              `json:"examples"`
	Not                  *schemaNode           `json:"not"`
	Pattern              string                `json:"pattern"`
	Default              any                   `json:"default"`
	Description          string                `json:"description"`
	Properties           map[string]schemaNode `json:"properties"`
	Items                *schemaNode           `json:"items"`
	PropertyNames        *schemaNode           `json:"propertyNames"`
	AdditionalProperties json.RawMessage       `json:"additionalProperties"`
	Definitions          map[string]schemaNode `json:"definitions"`
}

func loadSchema(t *testing.T) schemaNode {
	t.Helper()
	var root schemaNode
	if err := json.Unmarshal(Schema, &root); err != nil {
		t.Fatal(err)
	}
	return root
}

// resolve follows a local "#/definitions/x" reference.
func (root schemaNode) resolve(n schemaNode) schemaNode {
	if def, ok := strings.CutPrefix(n.Ref, "#/definitions/"); ok {
		r := root.Definitions[def]
		if n.Description != "" && r.Description == "" {
			r.Description = n.Description
		}
		return r
	}
	return n
}

// schemaProperty is one key of the config file, by its path in the docs'
// notation: "mode", "providers[].grant", "providers[].plugin.sha256".
type schemaProperty struct {
	path string
	node schemaNode
}

// schemaProperties lists every property of the schema, depth first, in
// sorted order within each object.
func schemaProperties(t *testing.T) []schemaProperty {
	t.Helper()
	root := loadSchema(t)
	var out []schemaProperty
	var walk func(prefix string, n schemaNode)
	walk = func(prefix string, n schemaNode) {
		n = root.resolve(n)
		keys := make([]string, 0, len(n.Properties))
		for k := range n.Properties {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := root.resolve(n.Properties[k])
			out = append(out, schemaProperty{prefix + k, p})
			switch {
			case p.Items != nil && root.resolve(*p.Items).Properties != nil:
				walk(prefix+k+"[].", *p.Items)
			case p.Properties != nil:
				walk(prefix+k+".", p)
			}
		}
	}
	walk("", root)
	return out
}

func schemaKeys(t *testing.T, prefix string) []string {
	var keys []string
	for _, p := range schemaProperties(t) {
		if rest, ok := strings.CutPrefix(p.path, prefix); ok && !strings.ContainsAny(rest, ".[") {
			keys = append(keys, rest)
		}
	}
	return keys
}

// builtinDrivers are the drivers the schema names as examples.
var builtinDrivers = []string{DriverOIDC, DriverGitHub, DriverSlack, DriverOkta}

func yamlTags(v any) []string { return structTags(v, "yaml") }

// structTags lists the names the struct v's fields have in tag key.
func structTags(v any, key string) []string {
	var tags []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		if rt.Field(i).IsExported() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get(key), ",")
			tags = append(tags, name)
		}
	}
	slices.Sort(tags)
	return tags
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// The schema, the decoder's key lists and the Go structs name the same keys.
func TestSchemaKeys(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		keys   []string
		tags   []string
	}{
		{"", fileKeys, yamlTags(File{})},
		{"providers[].", providerKeys, yamlTags(Provider{})},
		{"providers[].plugin.", pluginKeys, yamlTags(Plugin{})},
		{"providers[].endpoints.", endpointNames(), structTags(provider.Endpoints{}, "json")},
	} {
		got := schemaKeys(t, tt.prefix)
		if !slices.Equal(got, sorted(tt.keys)) {
			t.Errorf("%q: schema keys %v, decoder keys %v", tt.prefix, got, sorted(tt.keys))
		}
		if !slices.Equal(got, tt.tags) {
			t.Errorf("%q: schema keys %v, struct tags %v", tt.prefix, got, tt.tags)
		}
	}
}

// Enums, patterns and defaults are the ones Go validates with.
func TestSchemaValues(t *testing.T) {
	props := make(map[string]schemaNode)
	for _, p := range schemaProperties(t) {
		props[p.path] = p.node
	}
	for path, want := range map[string][]string{
		"mode":                      modes,
		"providers[].grant":         grants,
		"providers[].isolation":     isolations,
		"providers[].loopback_host": loopbackHosts,
	} {
		if got := props[path].Enum; !slices.Equal(got, want) {
			t.Errorf("%s: schema enum %v, Go %v", path, got, want)
		}
	}
	// Drivers are data: the schema names the built-in ones but refuses none.
	driver := props["providers[].driver"]
	if want := append(slices.Clone(builtinDrivers), DriverExternal); !slices.Equal(driver.Examples, want) || driver.Enum != nil {
		t.Errorf("providers[].driver: schema examples %v and enum %v; want examples %v and no enum", driver.Examples, driver.Enum, want)
	}
	reserved := slices.Sorted(maps.Keys(reservedParams))
	if n := props["providers[].extra_params"].PropertyNames; n == nil || n.Not == nil || !slices.Equal(n.Not.Enum, reserved) {
		t.Errorf("providers[].extra_params: the schema's propertyNames must refuse (not enum) %v", reserved)
	}
	for path, want := range map[string]string{
		"login_timeout":                  goDuration.String(),
		"providers[].name":               providerName.String(),
		"providers[].driver":             driverName.String(),
		"providers[].extra_params":       optionName.String(),
		"providers[].verification_hosts": hostPort.String(),
		"providers[].plugin.sha256":      sha256Hex.String(),
		"providers[].plugin.env":         envVarName.String(),
		"providers[].scopes":             scopeToken.String(),
		"providers[].options":            optionName.String(),
	} {
		n := props[path]
		got := n.Pattern
		if n.Items != nil {
			got = n.Items.Pattern
		}
		if n.PropertyNames != nil {
			got = n.PropertyNames.Pattern
		}
		if got != want {
			t.Errorf("%s: schema pattern %q, Go %q", path, got, want)
		}
	}
	for path, want := range map[string]any{
		"mode":                  DefaultMode,
		"login_timeout":         DefaultLoginTimeout.String(),
		"providers[].grant":     DefaultGrant,
		"providers[].isolation": DefaultIsolation,
	} {
		got := props[path].Default
		if path == "login_timeout" && got == "5m" {
			got = "5m0s" // the same duration, as people write it
		}
		if got != want {
			t.Errorf("%s: schema default %v, Go %v", path, got, want)
		}
	}
}

// Each key of the endpoints mapping sets the field of provider.Endpoints
// that carries the same name in JSON.
func TestEndpointKeys(t *testing.T) {
	for _, e := range endpointKeys {
		var ep provider.Endpoints
		*e.field(&ep) = "/" + e.key
		j, err := json.Marshal(ep)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		if err := json.Unmarshal(j, &got); err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{e.key: "/" + e.key}; !reflect.DeepEqual(got, want) {
			t.Errorf("endpoints.%s sets %v, want %v", e.key, got, want)
		}
	}
}
