package docstest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goBlock matches a fenced Go code block in Markdown.
var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// GoSnippets checks that every Go snippet in README.md and docs/*.md is
// code that compiles: its lines (trimmed, blank lines and "..." elisions
// aside) must stand, in order and contiguous, in a Go file of the module —
// an Example function, a test or a program that `go vet ./...` builds. A
// snippet edited in the docs but not in the code, or code changed under a
// snippet, fails.
func GoSnippets(t *testing.T) {
	t.Helper()
	root := moduleRoot(t)
	var sources []string
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".pb.go") {
			b, err := os.ReadFile(path)
			if err == nil {
				sources = append(sources, strings.Join(codeLines(string(b)), "\n"))
			}
		}
		return nil
	})
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append([]string{filepath.Join(root, "README.md")}, docs...)
	checked := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, doc)
		for _, m := range goBlock.FindAllStringSubmatch(string(b), -1) {
			checked++
			for _, part := range strings.Split(m[1], "\n...\n") {
				want := strings.Join(codeLines(part), "\n")
				if want == "" {
					continue
				}
				found := false
				for _, src := range sources {
					if strings.Contains(src, want) {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("%s: this Go snippet is in no compiled file of the module (put it in an Example function and keep both in step):\n%s", rel, part)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no Go snippets found: the check checked nothing")
	}
}

// codeLines trims every line and drops blank ones.
func codeLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
