package login

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzCallbackQuery feeds raw query strings to the loopback callback's
// checks and result page: no panic, a code is accepted only with this
// login's state and issuer, and nothing from the query reaches the page
// unescaped.
func FuzzCallbackQuery(f *testing.F) {
	const state, issuer = "the-state", "https://as.example"
	f.Add("state=the-state&code=abc", false)
	f.Add("state=the-state&code=abc&iss=https%3A%2F%2Fas.example", true)
	f.Add("state=the-state&iss=https%3A%2F%2Fevil.example&code=abc", false)
	f.Add("state=the-state&error=access_denied&error_description=%3Cscript%3Ex%3C%2Fscript%3E", false)
	f.Add("state=forged&code=abc", false)
	f.Add("code=abc", false)
	f.Add("state=the-state&state=other&code=a&code=b", false)
	f.Add("%zz&state=the-state;code=x", false)
	tags := func(kind int, msg string) int {
		rec := httptest.NewRecorder()
		renderPage(rec, http.StatusOK, kind, msg)
		return strings.Count(rec.Body.String(), "<")
	}
	f.Fuzz(func(t *testing.T, rawQuery string, issRequired bool) {
		c := &callback{state: state, issuer: issuer, issRequired: issRequired}
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: DefaultCallbackPath, RawQuery: rawQuery}}
		q := r.URL.Query()
		if !c.stateMatches(r) {
			if q.Get("state") == state {
				t.Fatalf("state %q refused", q.Get("state"))
			}
			return
		}
		if q.Get("state") != state {
			t.Fatalf("state %q accepted", q.Get("state"))
		}
		code, err := c.check(r)
		kind := pageComplete
		msg := ""
		if err != nil {
			kind, msg = pageFailed, err.Error()
		} else {
			if code == "" || code != q.Get("code") {
				t.Fatalf("code %q from query %q", code, rawQuery)
			}
			if iss, ok := q["iss"]; (ok || issRequired) && (len(iss) == 0 || iss[0] != issuer) {
				t.Fatalf("accepted iss %v (required %v)", iss, issRequired)
			}
			if q.Get("error") != "" {
				t.Fatalf("accepted a response carrying error %q", q.Get("error"))
			}
		}
		if got, want := tags(kind, msg), tags(kind, ""); got != want {
			t.Fatalf("page for %q has %d '<', want %d: input reached the page unescaped", msg, got, want)
		}
	})
}
