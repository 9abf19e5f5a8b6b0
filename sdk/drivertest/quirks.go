package drivertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/provider"
)

// maxQuirkBody caps a response body the proxy hands to Quirks.Response.
const maxQuirkBody = 1 << 20

// Quirks change what the OP answers, so a driver author can test how the
// driver copes with an issuer's quirk (a field in another type, an
// endpoint missing from discovery) without writing a fake server. They are
// applied by a loopback reverse proxy in front of the OP.
//
// The issuer stays the OP's own, so ID tokens still verify: the OP's
// metadata is discovered once, its endpoints are pointed at the proxy,
// Metadata edits it, and the driver is given the result as
// DriverConfig.Metadata (in process and as a plugin alike). Quirks
// therefore apply to drivers that take their metadata from the host, not to
// drivers with static endpoints of their own (GitHub, Slack).
type Quirks struct {
	// Metadata edits the authorization-server metadata, as its JSON object,
	// after the endpoints were pointed at the proxy.
	Metadata func(doc map[string]any)
	// Response edits every response of the OP's endpoints seen through the
	// proxy: it gets the request path, status, header (editable in place)
	// and body, and returns the status and body to send instead.
	Response func(path string, status int, header http.Header, body []byte) (int, []byte)
}

func (q Quirks) isZero() bool { return q.Metadata == nil && q.Response == nil }

// quirkyOP is an OP behind the quirks proxy.
type quirkyOP struct {
	OP
	cfg provider.DriverConfig
}

func (q quirkyOP) DriverConfig() provider.DriverConfig { return q.cfg }

// withQuirks starts the proxy in front of op and returns op with a
// configuration that sends the driver through it.
func withQuirks(t *testing.T, op OP, q Quirks) OP {
	t.Helper()
	cfg := op.DriverConfig()
	iss, err := url.Parse(cfg.Issuer)
	if err != nil {
		t.Fatalf("drivertest: issuer: %v", err)
	}
	origin := &url.URL{Scheme: iss.Scheme, Host: iss.Host}
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(origin)
			pr.Out.Host = origin.Host
			pr.Out.Header.Del("Accept-Encoding") // hooks see plain bodies
		},
		ModifyResponse: func(resp *http.Response) error { return applyResponseQuirk(resp, origin, q.Response) },
	})
	t.Cleanup(proxy.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	meta, err := (&discovery.Discoverer{}).AuthServer(ctx, cfg.Issuer)
	if err != nil {
		t.Fatalf("drivertest: discovering the OP for the quirks proxy: %v", err)
	}
	if cfg.Metadata, err = quirkyMetadata(meta, origin.String(), proxy.URL, q.Metadata); err != nil {
		t.Fatalf("drivertest: %v", err)
	}
	return quirkyOP{OP: op, cfg: cfg}
}

// quirkyMetadata points every endpoint on the OP's origin at the proxy,
// keeps the issuer, and applies edit.
func quirkyMetadata(m *provider.AuthServerMetadata, origin, proxy string, edit func(map[string]any)) (*provider.AuthServerMetadata, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("quirks: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("quirks: %w", err)
	}
	for k, v := range doc {
		if s, ok := v.(string); ok && k != "issuer" && strings.HasPrefix(s, origin+"/") {
			doc[k] = proxy + strings.TrimPrefix(s, origin)
		}
	}
	if edit != nil {
		edit(doc)
	}
	if raw, err = json.Marshal(doc); err != nil {
		return nil, fmt.Errorf("quirks: Metadata: %w", err)
	}
	var out provider.AuthServerMetadata
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("quirks: Metadata: the edited document does not decode: %w", err)
	}
	out.Source = m.Source
	return &out, nil
}

// applyResponseQuirk keeps the OP's redirects on the OP (a browser then
// leaves the proxy at the first one) and runs the Response hook.
func applyResponseQuirk(resp *http.Response, origin *url.URL, hook func(string, int, http.Header, []byte) (int, []byte)) error {
	if loc, err := resp.Location(); err == nil && loc.Host == resp.Request.Host {
		loc.Scheme, loc.Host = origin.Scheme, origin.Host
		resp.Header.Set("Location", loc.String())
	}
	if hook == nil {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxQuirkBody))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("drivertest: quirks proxy: reading the OP's response: %w", err)
	}
	status, body := hook(resp.Request.URL.Path, resp.StatusCode, resp.Header, body)
	resp.StatusCode, resp.Status = status, fmt.Sprintf("%d %s", status, http.StatusText(status))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return nil
}
