package nodeop

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// ApproveDevice plays the user approving a device authorization request in a
// fresh browser (new cookie jar): it opens the verification URI, submits the
// user code, confirms, signs in as "alice" (devInteractions accepts any
// password), consents, and reaches the "Sign-in Success" page. The error names
// the failing step, its HTTP status and an excerpt of the page.
func (o *OP) ApproveDevice(ctx context.Context, userCode string) error {
	return o.walk(ctx, "ApproveDevice", modeDeviceApprove, userCode, request{method: http.MethodGet, url: o.Issuer + "/device"})
}

// DenyDevice is ApproveDevice's walk, but the user presses Abort on the
// device confirmation page; the device's token polling then gets
// access_denied.
func (o *OP) DenyDevice(ctx context.Context, userCode string) error {
	return o.walk(ctx, "DenyDevice", modeDeviceDeny, userCode, request{method: http.MethodGet, url: o.Issuer + "/device"})
}

// Browse plays the user's browser for the authorization code flow in a fresh
// browser (new cookie jar): it opens authURL, signs in as "alice", consents,
// and follows the provider's redirects until the client's redirect URI (any
// URL off the provider, e.g. http://127.0.0.1:PORT/callback?code=...&state=...
// &iss=...) has been requested and its response read. With response_mode
// form_post the callback is POSTed, as a browser would. The callback's own
// HTTP status is not judged: the code under test reports its own outcome.
func (o *OP) Browse(ctx context.Context, authURL string) error {
	return o.walk(ctx, "Browse", modeBrowse, "", request{method: http.MethodGet, url: authURL})
}

// BrowseDeny is Browse, but the user presses Cancel on the sign-in page; the
// provider redirects to the client's redirect URI with error=access_denied,
// which is requested and read.
func (o *OP) BrowseDeny(ctx context.Context, authURL string) error {
	return o.walk(ctx, "BrowseDeny", modeBrowseDeny, "", request{method: http.MethodGet, url: authURL})
}

type walkMode int

const (
	modeDeviceApprove walkMode = iota
	modeDeviceDeny
	modeBrowse
	modeBrowseDeny
)

type request struct {
	method string
	url    string
	form   url.Values
	step   string
}

const maxSteps = 30

func (o *OP) walk(ctx context.Context, name string, mode walkMode, userCode string, req request) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	client := &http.Client{
		Jar:     jar,
		Timeout: o.httpClient.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	base, err := url.Parse(o.BaseURL)
	if err != nil {
		return err
	}
	fail := func(req request, status int, body []byte, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		return fmt.Errorf("nodeop: %s: step %q (%s %s): HTTP %d: %s: %s", name, req.step, req.method, req.url, status, msg, excerpt(body))
	}
	if req.step == "" {
		req.step = "open start page"
	}
	submittedCode, aborted := false, false

	for range maxSteps {
		u, err := url.Parse(req.url)
		if err != nil {
			return fmt.Errorf("nodeop: %s: step %q: bad URL %q: %w", name, req.step, req.url, err)
		}
		offOP := u.Scheme != base.Scheme || u.Host != base.Host

		var body io.Reader
		if req.form != nil {
			body = strings.NewReader(req.form.Encode())
		}
		hreq, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
		if err != nil {
			return fmt.Errorf("nodeop: %s: step %q: %w", name, req.step, err)
		}
		if req.form != nil {
			hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		hreq.Header.Set("Accept", "text/html")
		resp, err := client.Do(hreq)
		if err != nil {
			return fmt.Errorf("nodeop: %s: step %q (%s %s): %w", name, req.step, req.method, req.url, err)
		}
		page, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("nodeop: %s: step %q (%s %s): reading body: %w", name, req.step, req.method, req.url, err)
		}

		if offOP {
			// The client's redirect URI: the browser's job ends here.
			if mode == modeBrowse || mode == modeBrowseDeny {
				return nil
			}
			return fail(req, resp.StatusCode, page, "the device flow left the provider")
		}

		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			loc := resp.Header.Get("Location")
			if loc == "" {
				return fail(req, resp.StatusCode, page, "redirect without Location")
			}
			next, err := u.Parse(loc)
			if err != nil {
				return fail(req, resp.StatusCode, page, "bad Location %q", loc)
			}
			req = request{method: http.MethodGet, url: next.String(), step: "follow redirect"}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return fail(req, resp.StatusCode, page, "unexpected status")
		}

		doc := string(page)
		resolve := func(action string) (string, error) {
			a, err := u.Parse(html.UnescapeString(action))
			if err != nil {
				return "", err
			}
			return a.String(), nil
		}
		switch {
		case strings.Contains(doc, "<title>oops! something went wrong</title>"):
			return fail(req, resp.StatusCode, page, "provider error page")

		case strings.Contains(doc, "Sign-in Success</title>"):
			if mode == modeDeviceApprove {
				return nil
			}
			return fail(req, resp.StatusCode, page, "unexpected success page")

		case strings.Contains(doc, `id="op.deviceInputForm"`):
			if aborted && strings.Contains(doc, "The Sign-in request was interrupted") {
				if mode == modeDeviceDeny {
					return nil
				}
			}
			if submittedCode || (mode != modeDeviceApprove && mode != modeDeviceDeny) {
				return fail(req, resp.StatusCode, page, "user code form again (code rejected?)")
			}
			f, ok := findForm(doc, "op.deviceInputForm")
			if !ok {
				return fail(req, resp.StatusCode, page, "cannot parse the user code form")
			}
			action, err := resolve(f.action)
			if err != nil {
				return fail(req, resp.StatusCode, page, "bad form action %q", f.action)
			}
			vals := f.values()
			vals.Set("user_code", userCode)
			submittedCode = true
			req = request{method: http.MethodPost, url: action, form: vals, step: "submit user code"}

		case strings.Contains(doc, `id="op.deviceConfirmForm"`):
			if mode != modeDeviceApprove && mode != modeDeviceDeny {
				return fail(req, resp.StatusCode, page, "unexpected device confirmation page")
			}
			f, ok := findForm(doc, "op.deviceConfirmForm")
			if !ok {
				return fail(req, resp.StatusCode, page, "cannot parse the device confirmation form")
			}
			action, err := resolve(f.action)
			if err != nil {
				return fail(req, resp.StatusCode, page, "bad form action %q", f.action)
			}
			vals := f.values()
			step := "confirm device"
			if mode == modeDeviceDeny {
				vals.Set("abort", "yes") // the [ Abort ] button: name=abort value=yes
				aborted = true
				step = "abort device"
			}
			req = request{method: http.MethodPost, url: action, form: vals, step: step}

		case strings.Contains(doc, `name="prompt" value="login"`), strings.Contains(doc, `name="prompt" value="consent"`):
			prompt := "login"
			if strings.Contains(doc, `name="prompt" value="consent"`) {
				prompt = "consent"
			}
			if mode == modeBrowseDeny {
				href, ok := findCancel(doc)
				if !ok {
					return fail(req, resp.StatusCode, page, "no Cancel link on the %s page", prompt)
				}
				cancel, err := resolve(href)
				if err != nil {
					return fail(req, resp.StatusCode, page, "bad Cancel link %q", href)
				}
				req = request{method: http.MethodGet, url: cancel, step: "cancel at " + prompt}
				continue
			}
			f, ok := findForm(doc, "")
			if !ok {
				return fail(req, resp.StatusCode, page, "cannot parse the %s form", prompt)
			}
			action, err := resolve(f.action)
			if err != nil {
				return fail(req, resp.StatusCode, page, "bad form action %q", f.action)
			}
			vals := f.values()
			step := "consent"
			if prompt == "login" {
				vals.Set("login", demoLogin)
				vals.Set("password", "any-password")
				step = "sign in as " + demoLogin
			}
			req = request{method: http.MethodPost, url: action, form: vals, step: step}

		case strings.Contains(doc, "<title>Submitting Callback</title>"):
			// Auto-submitting form (verification_uri_complete, form_post
			// response mode): submit it as the page's script would.
			f, ok := findForm(doc, "")
			if !ok {
				return fail(req, resp.StatusCode, page, "cannot parse the auto-submit form")
			}
			action, err := resolve(f.action)
			if err != nil {
				return fail(req, resp.StatusCode, page, "bad form action %q", f.action)
			}
			req = request{method: http.MethodPost, url: action, form: f.values(), step: "auto-submit form"}

		default:
			return fail(req, resp.StatusCode, page, "unrecognised page")
		}
	}
	return fmt.Errorf("nodeop: %s: gave up after %d steps (last: %q %s)", name, maxSteps, req.step, req.url)
}

// The regular expressions below read oidc-provider's own form markup (see
// lib/helpers/user_code_form.js, lib/views/*.js and
// lib/response_modes/form_post.js in the npm package).
var (
	formRE   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE  = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE   = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*"([^"]*)"`)
	cancelRE = regexp.MustCompile(`(?is)<a\b[^>]*href="([^"]*)"[^>]*>\s*\[ Cancel \]\s*</a>`)
	tagRE    = regexp.MustCompile(`(?is)<style\b.*?</style>|<script\b.*?</script>|<[^>]*>`)
	spaceRE  = regexp.MustCompile(`\s+`)
)

type form struct {
	id, action string
	inputs     [][2]string // name, value of named <input>s, in order
}

func (f form) values() url.Values {
	v := url.Values{}
	for _, in := range f.inputs {
		v.Add(in[0], in[1])
	}
	return v
}

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// findForm returns the form with the given id, or the first form when id is "".
func findForm(doc, id string) (form, bool) {
	for _, m := range formRE.FindAllStringSubmatch(doc, -1) {
		fa := attrs(m[1])
		if id != "" && fa["id"] != id {
			continue
		}
		f := form{id: fa["id"], action: fa["action"]}
		for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
			ia := attrs(in[1])
			if ia["name"] == "" {
				continue
			}
			f.inputs = append(f.inputs, [2]string{ia["name"], ia["value"]})
		}
		return f, true
	}
	return form{}, false
}

func findCancel(doc string) (string, bool) {
	m := cancelRE.FindStringSubmatch(doc)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// excerpt is the visible text of an interaction page, for a failing test to
// say where the walk stopped. Tags are removed with their attributes, so the
// form's hidden xsrf value and any URL (with state or code) never reach it;
// these pages carry no token.
func excerpt(body []byte) string {
	s := tagRE.ReplaceAllString(string(body), " ")
	s = strings.TrimSpace(spaceRE.ReplaceAllString(html.UnescapeString(s), " "))
	if s == "" {
		s = "(empty body)"
	}
	const max = 400
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
