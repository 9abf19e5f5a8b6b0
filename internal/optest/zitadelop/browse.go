package zitadelop

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

// maxHops bounds the redirects Browse follows within one step.
const maxHops = 10

// Browse acts as the user's browser for an authorization code flow started
// at authURL (the OP's authorization endpoint with the client's query):
//
//  1. GET authURL, following the OP's redirects to its login page;
//  2. submit the login form with Username and Password, and Approve;
//  3. follow the OP's redirects until it redirects to a URL outside the OP
//     (the client's loopback redirect_uri), request that URL once, read the
//     response, and stop.
//
// Browse returns nil when the redirect_uri was requested with a "code"
// parameter and answered with a status below 400. Otherwise it returns an
// error naming the failed step, with the HTTP status and a short excerpt of
// the body: for example the OP rejecting the authorization request (400 on
// the authorization endpoint, such as for an unregistered redirect_uri), the
// login being rejected, the client's listener being unreachable or answering
// with an error, or the OP redirecting to the client with an "error"
// parameter (the client has then received that redirect).
//
// Every call uses a fresh cookie jar, like a new private browser window.
func (o *OP) Browse(ctx context.Context, authURL string) error {
	return o.browse(ctx, authURL, o.Username, o.Password)
}

func (o *OP) browse(ctx context.Context, authURL, username, password string) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	b := &browser{
		op:  o,
		ctx: ctx,
		client: &http.Client{
			Jar: jar,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // followed one by one in visit
			},
		},
	}

	const step1 = "open the authorization URL"
	page, err := b.visit(step1, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	if page.atClient {
		return page.clientResult(step1)
	}
	if page.status != http.StatusOK || page.url.Path != loginPath {
		return page.errorf(step1, "expected the login page %s", loginPath)
	}

	const step2 = "submit the login form"
	action, fields, err := parseLoginForm(page)
	if err != nil {
		return page.errorf(step2, "%v", err)
	}
	fields.Set("username", username)
	fields.Set("password", password)
	fields.Set("action", "approve")
	page, err = b.visit(step2, http.MethodPost, action, fields)
	if err != nil {
		return err
	}
	if !page.atClient {
		return page.errorf(step2, "expected a redirect to the client's redirect_uri")
	}
	return page.clientResult(step2)
}

type browser struct {
	op     *OP
	ctx    context.Context
	client *http.Client
}

// page is where a visit ended: a page of the OP that is not a redirect, or
// the client's redirect_uri (atClient).
type page struct {
	method   string
	url      *url.URL
	status   int
	body     string
	atClient bool
}

// visit requests rawURL and follows redirects within the OP. The first
// redirect leaving the OP is requested once and ends the visit.
func (b *browser) visit(step, method, rawURL string, form url.Values) (*page, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("zitadelop: browse: %s: bad URL %q: %w", step, rawURL, err)
	}
	for hop := 0; hop <= maxHops; hop++ {
		p, err := b.do(step, method, u, form)
		if err != nil {
			return nil, err
		}
		if p.status < 300 || p.status > 399 {
			return &p.page, nil
		}
		loc := p.location
		if loc == nil {
			return nil, p.errorf(step, "redirect without a Location header")
		}
		if loc.Host != b.op.host() {
			// The redirect to the client's redirect_uri: the browser
			// requests it, and the client's listener answers.
			c, err := b.do(step+" (request the client's redirect_uri)", http.MethodGet, loc, nil)
			if err != nil {
				return nil, err
			}
			c.atClient = true
			return &c.page, nil
		}
		method, u, form = http.MethodGet, loc, nil
	}
	return nil, fmt.Errorf("zitadelop: browse: %s: more than %d redirects", step, maxHops)
}

type response struct {
	page
	location *url.URL
}

func (b *browser) do(step, method string, u *url.URL, form url.Values) (*response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("zitadelop: browse: %s: %w", step, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("zitadelop: browse: %s: %s %s: %w", step, method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("zitadelop: browse: %s: %s %s: reading the response: %w", step, method, u, err)
	}
	r := &response{page: page{method: method, url: u, status: resp.StatusCode, body: string(data)}}
	if loc := resp.Header.Get("Location"); loc != "" {
		if r.location, err = u.Parse(loc); err != nil {
			return nil, r.errorf(step, "bad Location %q: %v", loc, err)
		}
	}
	return r, nil
}

func (o *OP) host() string {
	u, _ := url.Parse(o.Issuer)
	return u.Host
}

// errorf describes a failed step at p, with p's status and a body excerpt.
func (p *page) errorf(step, format string, args ...any) error {
	return fmt.Errorf("zitadelop: browse: %s: %s: %s %s answered %d: %s",
		step, fmt.Sprintf(format, args...), p.method, p.url.Redacted(), p.status, excerpt(p.body))
}

// clientResult judges the request of the client's redirect_uri.
func (p *page) clientResult(step string) error {
	q := p.url.Query()
	if e := q.Get("error"); e != "" {
		return fmt.Errorf("zitadelop: browse: %s: the OP redirected to the client with error=%q error_description=%q (%s answered %d)",
			step, e, q.Get("error_description"), p.url.Redacted(), p.status)
	}
	if q.Get("code") == "" {
		return p.errorf(step, "the redirect to the client carries no code")
	}
	if p.status >= 400 {
		return p.errorf(step, "the client's redirect_uri failed")
	}
	return nil
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
	tags        = regexp.MustCompile(`<[^>]*>`)
)

// parseLoginForm extracts the action URL and hidden fields of devidp's
// login page.
func parseLoginForm(p *page) (string, url.Values, error) {
	m := formAction.FindStringSubmatch(p.body)
	if m == nil {
		return "", nil, fmt.Errorf("no login form on the page")
	}
	action, err := p.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return "", nil, fmt.Errorf("bad form action %q: %v", m[1], err)
	}
	fields := url.Values{}
	for _, in := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
		fields.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return action.String(), fields, nil
}

// excerpt renders a response body as one short line of text.
func excerpt(body string) string {
	text := strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(body, " "))), " ")
	const max = 300
	if len(text) > max {
		text = text[:max] + "..."
	}
	if text == "" {
		return "(empty body)"
	}
	return fmt.Sprintf("%q", text)
}
