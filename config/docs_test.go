package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const docsPath = "../docs/config.md"

// docSections splits docs/config.md into its "### `key`" sections.
func docSections(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile("(?m)^### `([^`]+)`\n")
	text := string(data)
	locs := heading.FindAllStringSubmatchIndex(text, -1)
	out := make(map[string]string)
	for i, loc := range locs {
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		if next := strings.Index(text[loc[1]:end], "\n## "); next >= 0 {
			end = loc[1] + next
		}
		out[text[loc[2]:loc[3]]] = text[loc[1]:end]
	}
	return out
}

// envVarDoc is the variable a key's section must name.
func envVarDoc(path string) string {
	for _, fe := range fileEnv {
		if fe.key == path {
			return fe.env
		}
	}
	rest, ok := strings.CutPrefix(path, "providers[].")
	switch {
	case path == "providers" || rest == "name":
		return envProviders
	case rest == "plugin":
		return envProviders + "_<NAME>_PLUGIN_"
	case ok:
		for _, pe := range providerEnv {
			if pe.key == rest {
				return envProviders + "_<NAME>_" + pe.suffix
			}
		}
		for _, pm := range providerMaps {
			if rest == pm.key {
				return envProviders + "_<NAME>_" + pm.prefix
			}
			if k, ok := strings.CutPrefix(rest, pm.key+"."); ok {
				return envProviders + "_<NAME>_" + pm.prefix + strings.ToUpper(k)
			}
		}
	}
	return "(no variable for " + path + ")"
}

// Every key of the schema has a section in docs/config.md naming its
// environment variable, its allowed values and its default; every section is
// a key of the schema.
func TestDocsCoverSchema(t *testing.T) {
	sections := docSections(t)
	var paths []string
	for _, p := range schemaProperties(t) {
		paths = append(paths, p.path)
		text, ok := sections[p.path]
		if !ok {
			t.Errorf("%s: %s has no section \"### `%s`\"", p.path, docsPath, p.path)
			continue
		}
		if v := envVarDoc(p.path); !strings.Contains(text, "`"+v) {
			t.Errorf("%s: the section does not name its environment variable %s", p.path, v)
		}
		for _, e := range p.node.Enum {
			if !strings.Contains(text, "- `"+e+"`:") {
				t.Errorf("%s: the section does not explain the value %q (as a \"- `%s`:\" item)", p.path, e, e)
			}
		}
		if p.node.Default != nil {
			if d := fmt.Sprintf("Default `%v`", p.node.Default); !strings.Contains(text, d) {
				t.Errorf("%s: the section does not say %q", p.path, d)
			}
		}
	}
	for key := range sections {
		if !slices.Contains(paths, key) {
			t.Errorf("%s documents %q, which the schema does not have", docsPath, key)
		}
	}
}

// The documentation's error examples are what Parse says.
func TestDocsErrorExamples(t *testing.T) {
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		badFiles[0].want,
		`MCPAUTH_PROVIDERS_GITHUB_CLIENTID: unknown setting CLIENTID for provider "github"; did you mean MCPAUTH_PROVIDERS_GITHUB_CLIENT_ID?`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks the example %s", docsPath, want)
		}
	}
}
