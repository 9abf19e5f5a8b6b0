package sdk_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// progressOf returns the progress notifications c received.
func progressOf(t testing.TB, c testClient) []progressEvent {
	t.Helper()
	p, ok := c.(interface{ Progress() []progressEvent })
	if !ok {
		t.Fatalf("client %T records no progress values", c)
	}
	return p.Progress()
}

// countEvents counts the events of c equal to e.
func countEvents(c testClient, e string) int {
	n := 0
	for _, got := range c.Events() {
		if got == e {
			n++
		}
	}
	return n
}

// waitListChanged waits (bounded) until c received more than before
// notifications/tools/list_changed.
func waitListChanged(t testing.TB, c testClient, before int) {
	t.Helper()
	waitFor(t, func() bool { return countEvents(c, "list_changed") > before }, func() string {
		return fmt.Sprintf("a notifications/tools/list_changed after the %d seen; events %v", before, c.Events())
	})
}

// linkLines returns the lines of text that start with https:// or http://,
// untouched (nothing trimmed).
func linkLines(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "https://") || strings.HasPrefix(line, "http://") {
			out = append(out, line)
		}
	}
	return out
}

// strictLink finds the one link line of text and parses it as a whole: it
// must be a URL with nothing around it (no blank, no punctuation glued to
// its end), on the host want.
func strictLink(t testing.TB, text, wantHost string) (string, *url.URL) {
	t.Helper()
	links := linkLines(text)
	if len(links) != 1 {
		t.Fatalf("%d lines starting with a URL, want 1:\n%s", len(links), text)
	}
	line := links[0]
	u, err := url.Parse(line)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", line, err)
	}
	if strings.ContainsAny(line, " \t\r") || strings.ContainsAny(line[len(line)-1:], ".,;:!?)]}>\"'") {
		t.Fatalf("link line %q has blanks or trailing punctuation", line)
	}
	if u.Host != wantHost || (u.Scheme != "http" && u.Scheme != "https") {
		t.Fatalf("link %q: scheme %q host %q, want the OP's host %s", line, u.Scheme, u.Host, wantHost)
	}
	return line, u
}

// codeLine returns the line of text that is a user code and nothing else.
func codeLine(text string) string {
	for _, line := range strings.Split(text, "\n") {
		if userCodeRE.FindString(line) == line && line != "" {
			return line
		}
	}
	return ""
}

// wireTools lists the tools over a raw 2025-11-25 session: name → its
// annotations object as it went over the wire (nil if none).
func wireTools(t testing.TB, sp *serverProc) map[string]map[string]any {
	t.Helper()
	r := startRaw(t, sp, false, map[string]any{})
	defer r.Close()
	ctx := testContext(t)
	res := r.Response(ctx, r.Send("tools/list", nil))
	tools, _ := res["tools"].([]any)
	out := map[string]map[string]any{}
	for _, x := range tools {
		m, _ := x.(map[string]any)
		name, _ := m["name"].(string)
		ann, _ := m["annotations"].(map[string]any)
		out[name] = ann
	}
	return out
}

// hint is the value of a tool annotation as a client must read it: the
// value sent, or the spec's default when absent (MCP ToolAnnotations:
// readOnlyHint false, destructiveHint true, idempotentHint false,
// openWorldHint true).
func hint(ann map[string]any, key string) bool {
	if v, ok := ann[key].(bool); ok {
		return v
	}
	switch key {
	case "destructiveHint", "openWorldHint":
		return true
	}
	return false
}

// fileText reads path; a missing file reads as "".
func fileText(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// checkProgressTimes asserts that progress on token kept the request
// alive from the moment the prompt was shown until the result: the first
// notification within maxGap of shown, none more than maxGap apart, the
// last within maxGap of done, at least minDuring while the prompt was
// being read (shown … answered), values strictly increasing, and every
// notification for token.
func checkProgressTimes(t testing.TB, got []progressEvent, token string, shown, answered, done time.Time, maxGap time.Duration, minDuring int) {
	t.Helper()
	if len(got) == 0 {
		t.Fatalf("no progress notifications (prompt shown at +0, answered at +%v, result at +%v)", answered.Sub(shown), done.Sub(shown))
	}
	var desc []string
	for _, p := range got {
		desc = append(desc, fmt.Sprintf("%s=%.3f@%+.1fs", p.Token, p.Value, p.At.Sub(shown).Seconds()))
	}
	t.Logf("prompt shown at +0, answered at %+.1fs, result at %+.1fs; progress: %s",
		answered.Sub(shown).Seconds(), done.Sub(shown).Seconds(), strings.Join(desc, " "))
	if slices.ContainsFunc(got, func(p progressEvent) bool { return p.Token != token }) {
		t.Errorf("progress for other tokens than %s: %v", token, desc)
	}
	if d := got[0].At.Sub(shown); d > maxGap {
		t.Errorf("first progress %v after the prompt was shown, want ≤ %v", d, maxGap)
	}
	for i := 1; i < len(got); i++ {
		if d := got[i].At.Sub(got[i-1].At); d > maxGap {
			t.Errorf("progress %d came %v after the one before, want ≤ %v", i, d, maxGap)
		}
		if got[i].Value <= got[i-1].Value {
			t.Errorf("progress %d: value %v after %v, want strictly increasing", i, got[i].Value, got[i-1].Value)
		}
	}
	if d := done.Sub(got[len(got)-1].At); d > maxGap {
		t.Errorf("the result came %v after the last progress, want ≤ %v", d, maxGap)
	}
	during := 0
	for _, p := range got {
		if !p.At.Before(shown) && !p.At.After(answered) {
			during++
		}
	}
	if during < minDuring {
		t.Errorf("%d progress notifications while the prompt was unanswered (%v), want ≥ %d", during, answered.Sub(shown), minDuring)
	}
}

// timed measures a call.
func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// approveCtx is a bounded context for acting as the user.
func approveCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
