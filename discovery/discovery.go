package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/sync/singleflight"

	"github.com/mcpauth/mcpauth/provider"
)

// Discovery limits.
const (
	// DefaultMaxBody caps every metadata response: a metadata document is a
	// few KiB; anything near a mebibyte is a misconfigured or hostile server.
	DefaultMaxBody = 1 << 20
	// DefaultRequestTimeout bounds each metadata request.
	DefaultRequestTimeout = 10 * time.Second
	// maxRedirects bounds the same-host redirects followed for one
	// document (net/http's own default is 10; a metadata URL that needs
	// more than a couple is misconfigured).
	maxRedirects = 5
)

// Well-known paths.
const (
	wellKnownAuthServer = "/.well-known/oauth-authorization-server" // RFC 8414 §3
	wellKnownOIDC       = "/.well-known/openid-configuration"       // OpenID Connect Discovery 1.0 §4
	wellKnownResource   = "/.well-known/oauth-protected-resource"   // RFC 9728 §3
)

// Errors.
var (
	// ErrNoMetadata: no candidate URL served a metadata document.
	ErrNoMetadata = errors.New("discovery: no authorization server metadata found")
	// ErrBodyTooLarge: a metadata response exceeded the size cap.
	ErrBodyTooLarge = errors.New("discovery: metadata response too large")
	// ErrRedirectRefused: a metadata URL redirected to another host, from
	// https to http, or too many times.
	ErrRedirectRefused = errors.New("discovery: redirect refused")
)

// Discoverer finds authorization-server metadata: RFC 9728 for a resource,
// then RFC 8414 with path insertion, then OpenID Connect discovery (path
// insertion, then the issuer with the well-known path appended, through
// go-oidc), then any fallback URLs a driver declares. The issuer in the
// document must equal the issuer asked for, exactly (RFC 8414 §3.3); every
// endpoint must be https (http only on loopback); bodies are capped and each
// request times out. Redirects are followed only on the same host and
// never from https to http (see checkRedirect); Source is the URL the
// document finally came from. Results are cached per issuer for the life of
// the Discoverer.
//
// The zero value is ready to use and safe for concurrent use.
type Discoverer struct {
	// HTTPClient is used for every request; nil means a client with
	// RequestTimeout. Its transport is wrapped to cap response bodies, and
	// its CheckRedirect, if any, runs after the Discoverer's own redirect
	// rules.
	HTTPClient *http.Client
	// RequestTimeout bounds each request; default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxBody caps each response body; default DefaultMaxBody.
	MaxBody int64

	once   sync.Once
	client *http.Client
	mu     sync.Mutex
	cache  map[string]*provider.AuthServerMetadata
	flight singleflight.Group
}

func (d *Discoverer) httpClient() *http.Client {
	d.once.Do(func() {
		base := d.HTTPClient
		if base == nil {
			base = &http.Client{}
		}
		c := *base
		rt := c.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		max := d.MaxBody
		if max <= 0 {
			max = DefaultMaxBody
		}
		c.Transport = cappedTransport{rt, max}
		next := c.CheckRedirect
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if err := checkRedirect(req, via); err != nil {
				return err
			}
			if next != nil {
				return next(req, via)
			}
			return nil
		}
		d.client = &c
	})
	return d.client
}

func (d *Discoverer) timeout() time.Duration {
	if d.RequestTimeout > 0 {
		return d.RequestTimeout
	}
	return DefaultRequestTimeout
}

// checkRedirect is the redirect policy of every metadata request, go-oidc's
// included. A document is validated against the URL it was requested from
// (RFC 8414 §3.3, RFC 9728 §3.3: the issuer or resource it names must match
// the one the URL was built from), and that check means something only if
// the document came from that URL's host over the same protection: a
// redirect to another host would let that host answer for the issuer, one
// from https to http would let anyone on the path answer. So only same-host
// (host and port) redirects are followed, never https → http, at most
// maxRedirects of them.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	from, to := via[0].URL, req.URL
	switch {
	case len(via) > maxRedirects:
		return fmt.Errorf("%w: %s redirected more than %d times", ErrRedirectRefused, from, maxRedirects)
	case from.Scheme == "https" && to.Scheme != "https":
		return fmt.Errorf("%w: %s redirected to %s, from https to %s", ErrRedirectRefused, from, to, to.Scheme)
	case !strings.EqualFold(from.Host, to.Host):
		return fmt.Errorf("%w: %s redirected to another host, %s (a metadata document is trusted only from the host it was asked of)", ErrRedirectRefused, from, to)
	}
	return nil
}

// AuthServer returns the metadata of issuer. fallbacks are further document
// URLs to try last, for issuers whose layout the standard candidates miss.
func (d *Discoverer) AuthServer(ctx context.Context, issuer string, fallbacks ...string) (*provider.AuthServerMetadata, error) {
	d.mu.Lock()
	m, ok := d.cache[issuer]
	d.mu.Unlock()
	if ok {
		return m, nil
	}
	v, err, _ := d.flight.Do(issuer, func() (any, error) {
		m, err := d.discover(ctx, issuer, fallbacks)
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.cache == nil {
			d.cache = make(map[string]*provider.AuthServerMetadata)
		}
		d.cache[issuer] = m
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*provider.AuthServerMetadata), nil
}

// Candidates lists the metadata URLs tried for issuer, in order, without
// duplicates. The OpenID appended form is last: it is fetched through go-oidc.
func Candidates(issuer string) ([]string, error) {
	// RFC 8414 §2: an https URL without query or fragment.
	if err := provider.CheckIdentifierURL("issuer", issuer); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	u, _ := url.Parse(issuer) // parsed by CheckIdentifierURL
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	origin := u.Scheme + "://" + u.Host
	out := []string{
		origin + wellKnownAuthServer + path,             // RFC 8414 §3.1 path insertion
		origin + wellKnownOIDC + path,                   // OIDC path insertion (RFC 8414 §5 compatibility note)
		strings.TrimSuffix(issuer, "/") + wellKnownOIDC, // OIDC Discovery §4 appended
	}
	if out[1] == out[2] {
		out = out[:2]
	}
	return out, nil
}

func (d *Discoverer) discover(ctx context.Context, issuer string, fallbacks []string) (*provider.AuthServerMetadata, error) {
	cands, err := Candidates(issuer)
	if err != nil {
		return nil, err
	}
	appended := strings.TrimSuffix(issuer, "/") + wellKnownOIDC
	var tried []string
	for _, c := range append(cands, fallbacks...) {
		var m *provider.AuthServerMetadata
		if c == appended && !slices.Contains(fallbacks, c) {
			m, err = d.viaGoOIDC(ctx, issuer, c)
		} else {
			m, err = d.fetchAuthServer(ctx, issuer, c)
		}
		if errors.Is(err, errNotFound) {
			tried = append(tried, c)
			continue
		}
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w for issuer %s (tried %s)", ErrNoMetadata, issuer, strings.Join(tried, ", "))
}

var clientErrorStatus = regexp.MustCompile(`^4\d\d `)

// errNotFound marks a candidate URL that does not serve a document, so the
// next candidate is tried. Every other failure ends discovery.
var errNotFound = errors.New("discovery: not found")

func (d *Discoverer) fetchAuthServer(ctx context.Context, issuer, docURL string) (*provider.AuthServerMetadata, error) {
	var m provider.AuthServerMetadata
	src, err := d.getJSON(ctx, docURL, &m)
	if err != nil {
		return nil, err
	}
	m.Source = src
	return checkAuthServer(issuer, &m)
}

// viaGoOIDC uses go-oidc for the appended OpenID discovery URL; go-oidc
// checks the issuer itself and reports a typed IssuerMismatchError.
func (d *Discoverer) viaGoOIDC(ctx context.Context, issuer, docURL string) (*provider.AuthServerMetadata, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	// A copy of the client per call records where a followed (same-host)
	// redirect led: go-oidc does not say where the document came from.
	source := docURL
	c := *d.httpClient()
	policy := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := policy(req, via); err != nil {
			return err
		}
		source = req.URL.String()
		return nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, &c), issuer)
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		switch {
		case errors.As(err, &mismatch):
			return nil, fmt.Errorf("discovery: %s names issuer %q, expected %q: %w", docURL, mismatch.Discovered, mismatch.Provided, provider.ErrIssuerMismatch)
		case strings.Contains(err.Error(), ErrBodyTooLarge.Error()):
			// go-oidc formats read errors with %v, dropping the chain.
			return nil, fmt.Errorf("discovery: OpenID discovery at %s: %w", docURL, ErrBodyTooLarge)
		case clientErrorStatus.MatchString(err.Error()):
			// go-oidc reports a non-200 status as "<status>: <body>".
			return nil, errNotFound
		}
		return nil, fmt.Errorf("discovery: OpenID discovery at %s: %w", docURL, err)
	}
	var m provider.AuthServerMetadata
	if err := p.Claims(&m); err != nil {
		return nil, fmt.Errorf("discovery: OpenID discovery at %s: %w", docURL, err)
	}
	m.Source = source
	return checkAuthServer(issuer, &m)
}

func checkAuthServer(issuer string, m *provider.AuthServerMetadata) (*provider.AuthServerMetadata, error) {
	// RFC 8414 §3.3: the issuer must be identical to the one the URL was built from.
	if m.Issuer != issuer {
		return nil, fmt.Errorf("discovery: %s names issuer %q, expected %q (they must match exactly): %w",
			m.Source, m.Issuer, issuer, provider.ErrIssuerMismatch)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("discovery: %s: %w", m.Source, err)
	}
	if m.TokenEndpoint == "" {
		return nil, fmt.Errorf("discovery: %s has no token_endpoint", m.Source)
	}
	return m, nil
}

// ProtectedResource fetches the RFC 9728 metadata of an API URL (path
// insertion, §3.1) and checks that it names the same resource (§3.3).
func (d *Discoverer) ProtectedResource(ctx context.Context, resource string) (*provider.ProtectedResourceMetadata, error) {
	if err := provider.CheckEndpointURL("resource", resource); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	u, _ := url.Parse(resource)
	docURL := u.Scheme + "://" + u.Host + wellKnownResource + strings.TrimSuffix(u.EscapedPath(), "/")
	var m provider.ProtectedResourceMetadata
	src, err := d.getJSON(ctx, docURL, &m)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return nil, fmt.Errorf("discovery: %s serves no protected-resource metadata at %s: %w", resource, docURL, ErrNoMetadata)
		}
		return nil, err
	}
	m.Source = src
	return checkProtectedResource(resource, &m)
}

// checkProtectedResource applies RFC 9728 §3.3 to a fetched document.
func checkProtectedResource(resource string, m *provider.ProtectedResourceMetadata) (*provider.ProtectedResourceMetadata, error) {
	if m.Resource != resource {
		return nil, fmt.Errorf("discovery: %s names resource %q, expected %q (RFC 9728 §3.3): %w", m.Source, m.Resource, resource, provider.ErrIssuerMismatch)
	}
	if len(m.AuthorizationServers) == 0 {
		return nil, fmt.Errorf("discovery: %s lists no authorization_servers", m.Source)
	}
	for _, as := range m.AuthorizationServers {
		// Each entry is an issuer identifier (RFC 9728 §2, RFC 8414 §2).
		if err := provider.CheckIdentifierURL("authorization_servers entry", as); err != nil {
			return nil, fmt.Errorf("discovery: %s: %w", m.Source, err)
		}
	}
	return m, nil
}

// ForResource finds the authorization server of an API: its RFC 9728
// metadata, then the first listed authorization server's metadata.
func (d *Discoverer) ForResource(ctx context.Context, resource string, fallbacks ...string) (*provider.ProtectedResourceMetadata, *provider.AuthServerMetadata, error) {
	prm, err := d.ProtectedResource(ctx, resource)
	if err != nil {
		return nil, nil, err
	}
	as, err := d.AuthServer(ctx, prm.AuthorizationServers[0], fallbacks...)
	if err != nil {
		return nil, nil, err
	}
	return prm, as, nil
}

// getJSON fetches docURL into v and returns the URL the document came
// from: docURL, or where a same-host redirect led.
func (d *Discoverer) getJSON(ctx context.Context, docURL string, v any) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		return "", fmt.Errorf("discovery: %s: %w", docURL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.httpClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("discovery: fetching %s: %w", docURL, err)
	}
	defer resp.Body.Close()
	src := resp.Request.URL.String()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("discovery: reading %s: %w", src, err)
	}
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		return "", errNotFound
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("discovery: %s answered HTTP %d", src, resp.StatusCode)
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "" && ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		return "", fmt.Errorf("discovery: %s answered %s, not JSON", src, ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return "", fmt.Errorf("discovery: %s: malformed JSON: %w", src, err)
	}
	return src, nil
}

// cappedTransport limits response bodies, for every request made through the
// Discoverer's client, go-oidc's included.
type cappedTransport struct {
	rt  http.RoundTripper
	max int64
}

func (c cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: c.max, max: c.max, url: req.URL.String()}
	return resp, nil
}

type cappedBody struct {
	rc        io.ReadCloser
	left, max int64
	url       string
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more than allowed tells "exactly max" from "too large".
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w: %s exceeds %d bytes", ErrBodyTooLarge, b.url, b.max)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// Default is the discoverer drivers use when none is injected: one cache
// per process.
var Default = &Discoverer{}

// AuthServer discovers issuer's metadata with Default. It is the default
// provider.DiscoverFunc.
func AuthServer(ctx context.Context, issuer string) (*provider.AuthServerMetadata, error) {
	return Default.AuthServer(ctx, issuer)
}

var _ provider.DiscoverFunc = AuthServer
