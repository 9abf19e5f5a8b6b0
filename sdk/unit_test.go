package sdk

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/provider"
)

// staticDriver is a driver with static metadata and no grants: enough for
// tests that put a token in the store themselves.
type staticDriver struct{ meta provider.AuthServerMetadata }

func (d staticDriver) Describe() provider.Description {
	return provider.Description{Name: "static", ClientID: "client"}
}

func (d staticDriver) Metadata(context.Context) (*provider.AuthServerMetadata, error) {
	return &d.meta, nil
}

// withDriver returns options with one provider "p" served in process by d,
// registered in the catalogue as the driver "static", and no config file.
func withDriver(d provider.Driver, o Options) Options {
	o.Drivers = []provider.Registration{{Name: "static", New: func(context.Context, provider.DriverConfig) (provider.Driver, error) { return d, nil }}}
	o.Providers = []config.Provider{{Name: "p", Driver: "static", Issuer: "https://idp.example", ClientID: "client", Isolation: config.IsolationInProcess}}
	o.ConfigFile = os.DevNull
	o.Environ = []string{}
	return o
}

func TestCheckShownURL(t *testing.T) {
	tests := []struct {
		issuer, url string
		allowed     []string
		ok          bool
	}{
		{"https://github.com", "https://github.com/login/device", nil, true},
		{"https://accounts.google.com", "https://www.google.com/device", nil, true}, // same registrable domain
		{"https://login.microsoftonline.com/tenant/v2.0", "https://microsoft.com/devicelogin", nil, false},
		{"https://login.microsoftonline.com/tenant/v2.0", "https://microsoft.com/devicelogin", []string{"microsoft.com"}, true},
		{"https://idp.example.com", "https://evil.example.net/device", nil, false},
		{"https://idp.example.com", "http://idp.example.com/device", nil, false}, // plain http off loopback
		{"http://127.0.0.1:8080", "http://127.0.0.1:9090/device", nil, true},     // loopback, any port
		{"https://idp.example.com", "javascript:alert(1)", nil, false},
		{"https://co.uk", "https://evil.co.uk/device", nil, false}, // a public suffix is no registrable domain
	}
	for _, tt := range tests {
		err := checkShownURL(tt.issuer, tt.url, tt.allowed)
		if (err == nil) != tt.ok {
			t.Errorf("checkShownURL(%q, %q, %v) = %v, want ok=%v", tt.issuer, tt.url, tt.allowed, err, tt.ok)
		}
	}
}

func TestCheckClientIDMetadataDocumentURL(t *testing.T) {
	for u, want := range map[string]string{
		"https://app.example/oauth/client.json":     "",
		"http://app.example/oauth/client.json":      "not an https URL",
		"https://app.example":                       "has no path",
		"https://app.example/":                      "has no path",
		"https://app.example/a#frag":                "has a fragment",
		"https://user:pw@app.example/client.json":   "carries credentials",
		"https://app.example/a/../client.json":      "dot segments",
		"app.example/client.json":                   "not an absolute URL",
		"https://app.example/oauth/client.json?v=1": "",
	} {
		err := CheckClientIDMetadataDocumentURL(u)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v, want ok", u, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want %q", u, err, want)
		}
	}
}

func TestElicitationSupportOf(t *testing.T) {
	for _, tt := range []struct {
		declared, url bool
		want          ElicitationSupport
	}{{false, false, ElicitNone}, {false, true, ElicitNone}, {true, false, ElicitForm}, {true, true, ElicitURL}} {
		if got := ElicitationSupportOf(tt.declared, tt.url); got != tt.want {
			t.Errorf("ElicitationSupportOf(%v, %v) = %v, want %v", tt.declared, tt.url, got, tt.want)
		}
	}
}

func TestCIMDFromCapabilities(t *testing.T) {
	const u = "https://host.example/client.json"
	for _, tt := range []struct{ ext, exp map[string]any }{
		{ext: map[string]any{CapabilityClientIDMetadataDocument: map[string]any{"clientId": u}}},
		{exp: map[string]any{CapabilityClientIDMetadataDocument: map[string]any{"clientId": u}}},
		{ext: map[string]any{CapabilityClientIDMetadataDocument: u}},
	} {
		if got := ClientIDMetadataDocumentOf(tt.ext, tt.exp); got != u {
			t.Errorf("ClientIDMetadataDocumentOf(%v, %v) = %q", tt.ext, tt.exp, got)
		}
	}
	if got := ClientIDMetadataDocumentOf(nil, nil); got != "" {
		t.Errorf("no capability: %q", got)
	}
}

// wrapped runs h as an adapter's protected handler would: through Call,
// answering with h's result when it ran or with the core's.
func wrapped(a *Auth, h func(ctx context.Context) (*Result, error), needs []Requirement) func(context.Context, *Request) (*Result, error) {
	return func(ctx context.Context, req *Request) (*Result, error) {
		var res *Result
		var err error
		if out := a.Call(ctx, req, needs, func(ctx context.Context) error {
			res, err = h(ctx)
			return nil
		}); out != nil {
			return out, nil
		}
		return res, err
	}
}

func textResult(s string) *Result { return &Result{Text: s} }

// loggedInAuth returns an Auth whose provider "p" holds a valid token.
func loggedInAuth(tb testing.TB) *Auth {
	tb.Helper()
	d := staticDriver{meta: provider.AuthServerMetadata{Issuer: "https://idp.example"}}
	a, err := New(context.Background(), withDriver(d, Options{Logger: slog.New(slog.DiscardHandler)}))
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.providers["p"].loggedInWith(context.Background(), d, &d.meta,
		&provider.Token{AccessToken: "at", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour), Scopes: []string{"read"}}, false); err != nil {
		tb.Fatal(err)
	}
	return a
}

func TestTokenInHandler(t *testing.T) {
	a := loggedInAuth(t)
	h := wrapped(a, func(ctx context.Context) (*Result, error) {
		tok, err := Token(ctx, "p")
		if err != nil {
			return nil, err
		}
		if tok.AccessToken != "at" || tok.RefreshToken != "" {
			t.Errorf("token %v", tok)
		}
		if _, err := Token(ctx, "nope"); err == nil {
			t.Error("Token of an unknown provider succeeded")
		}
		return textResult("ok"), nil
	}, []Requirement{Need("p", "read")})
	res, err := h(context.Background(), &Request{})
	if err != nil || res.IsError {
		t.Fatalf("handler = %+v, %v", res, err)
	}
	if _, err := Token(context.Background(), "p"); err != ErrNotProtected {
		t.Errorf("Token outside a handler: %v, want ErrNotProtected", err)
	}
}

// BenchmarkWrappedHandler is mcpauth's own cost per protected call with a
// token in memory, without any transport.
func BenchmarkWrappedHandler(b *testing.B) {
	a := loggedInAuth(b)
	h := wrapped(a, func(ctx context.Context) (*Result, error) {
		if _, err := Token(ctx, "p"); err != nil {
			return nil, err
		}
		return textResult("pong"), nil
	}, []Requirement{Need("p")})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h(ctx, &Request{}); err != nil {
			b.Fatal(err)
		}
	}
}

// callerWith is a caller whose client declared cl.
func callerWith(cl Client) caller { return caller{declared: func() Client { return cl }} }
