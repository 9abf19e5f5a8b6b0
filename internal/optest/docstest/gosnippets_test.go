package docstest

import "testing"

func TestGoSnippetsCompile(t *testing.T) { GoSnippets(t) }
