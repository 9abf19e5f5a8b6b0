package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpauth/mcpauth/internal/suggest"
)

// Problem is one thing wrong with a configuration, located in the file, the
// environment or the server's code.
type Problem struct {
	// File is the config file's name as given to Load or Parse; empty for
	// a configuration from the environment alone, and for a server default.
	File string
	// Line is the 1-based line in File; 0 when the value came from the
	// environment or has no place in the file (a default, say).
	Line int
	// Env is the environment variable the value came from, if any.
	Env string
	// Field is the path of the offending key, as in "providers[0].grant".
	Field string
	// Message says what is wrong and, where it can, what to write instead.
	Message string
	// Default is true when the value came from a provider the server's code
	// declared (LoadOptions.Defaults) that neither the file nor the
	// environment changed: there is no line or variable to point at.
	Default bool
	// Provider is that provider's name, set with Default.
	Provider string
}

// String formats p as "config.yaml:7: providers[0].grant: message", or
// "MCPAUTH_PROVIDERS_GITHUB_GRANT: providers[0].grant: message" for a value
// from the environment, or `providers[0] "github" (server default).grant:
// message` for a server default.
func (p Problem) String() string {
	var b strings.Builder
	field := p.Field
	if p.Default {
		field = serverDefaultField(field, p.Provider)
	}
	switch {
	case p.Env != "":
		b.WriteString(p.Env)
		b.WriteString(": ")
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		b.WriteString(p.File)
		b.WriteString(": ")
	}
	if field != "" {
		b.WriteString(field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// serverDefaultField names the provider and says "(server default)" after
// the "providers[N]" of field: `providers[0] "github" (server default).grant`.
func serverDefaultField(field, name string) string {
	tag := fmt.Sprintf(" %q (server default)", name)
	if rest, ok := strings.CutPrefix(field, "providers["); ok {
		if i := strings.IndexByte(rest, ']'); i >= 0 {
			n := len("providers[") + i + 1
			return field[:n] + tag + field[n:]
		}
	}
	return field + tag
}

// ValidationError lists every problem found in a configuration, in file
// order, then those from the environment, then those in server defaults.
type ValidationError struct {
	Problems []Problem
}

// Error is one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func sortProblems(ps []Problem) {
	// File lines first (in order), then the environment, then server
	// defaults (in provider order, as recorded).
	rank := func(p Problem) int {
		switch {
		case p.Default:
			return 2
		case p.Env != "":
			return 1
		}
		return 0
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	})
}

// notValid says that value is not one of valid, suggesting the closest
// valid value when there is one.
func notValid(value string, valid []string) string {
	if s := suggest.Closest(value, valid); s != "" {
		return fmt.Sprintf("%q is not valid; did you mean %q?", value, s)
	}
	return fmt.Sprintf("%q is not valid; want %s", value, oneOf(valid))
}

// oneOf renders valid as `one of "a", "b" or "c"`.
func oneOf(valid []string) string {
	q := make([]string, len(valid))
	for i, v := range valid {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return "one of " + strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
