package login

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
	"golang.org/x/oauth2"
)

// recordingExchanger builds authorization URLs and checks the PKCE pair on exchange.
type recordingExchanger struct {
	req      provider.AuthCodeRequest
	verifier string
	exchErr  error
}

func (r *recordingExchanger) AuthCodeURL(_ context.Context, req provider.AuthCodeRequest) (string, error) {
	r.req = req
	return "https://as.example/authorize?state=" + url.QueryEscape(req.State), nil
}

func (r *recordingExchanger) Exchange(_ context.Context, code, verifier, redirect string) (*provider.Token, error) {
	r.verifier = verifier
	if r.exchErr != nil {
		return nil, r.exchErr
	}
	if oauth2.S256ChallengeFromVerifier(verifier) != r.req.CodeChallenge {
		return nil, errors.New("verifier does not match challenge")
	}
	if redirect != r.req.RedirectURI || code != "the-code" {
		return nil, errors.New("wrong code or redirect")
	}
	return &provider.Token{AccessToken: "at"}, nil
}

// browser returns an Open func that requests the redirect URI with the
// query built by q(state), like a browser following the server's redirect.
// The page it was shown arrives on the returned channel.
func browser(t *testing.T, x *recordingExchanger, q func(state string) url.Values) (func(context.Context, string) error, <-chan string) {
	page := make(chan string, 1)
	return func(ctx context.Context, authURL string) error {
		go func() {
			defer close(page)
			u := x.req.RedirectURI + "?" + q(x.req.State).Encode()
			resp, err := http.Get(u)
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page <- string(b)
		}()
		return nil
	}, page
}

func TestLoopbackAuthorize(t *testing.T) {
	meta := &provider.AuthServerMetadata{Issuer: "https://as.example", CodeChallengeMethodsSupported: []string{"S256"}}
	issMeta := &provider.AuthServerMetadata{Issuer: "https://as.example", AuthorizationResponseIssParameterSupported: true}
	ok := func(extra url.Values) func(string) url.Values {
		return func(state string) url.Values {
			v := url.Values{"state": {state}, "code": {"the-code"}}
			for k, x := range extra {
				v[k] = x
			}
			return v
		}
	}
	tests := []struct {
		name     string
		meta     *provider.AuthServerMetadata
		query    func(state string) url.Values
		wantErr  error
		wantPage string
	}{
		{name: "success", meta: meta, query: ok(nil), wantPage: "Login complete"},
		{name: "iss advertised and correct", meta: issMeta, query: ok(url.Values{"iss": {"https://as.example"}}), wantPage: "Login complete"},
		{name: "iss advertised but missing", meta: issMeta, query: ok(nil), wantErr: provider.ErrIssuerMismatch},
		{name: "iss wrong", meta: issMeta, query: ok(url.Values{"iss": {"https://evil.example"}}), wantErr: provider.ErrIssuerMismatch},
		{name: "iss present though not advertised, wrong", meta: meta, query: ok(url.Values{"iss": {"https://evil.example"}}), wantErr: provider.ErrIssuerMismatch},
		{name: "error from server is escaped", meta: meta,
			query: func(state string) url.Values {
				return url.Values{"state": {state}, "error": {"access_denied"}, "error_description": {`<script>alert("x")</script>`}}
			},
			wantErr: provider.ErrAccessDenied, wantPage: "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &recordingExchanger{}
			open, pages := browser(t, x, tt.query)
			l := &Loopback{Timeout: 10 * time.Second, Open: open}
			tok, err := l.Authorize(context.Background(), x, tt.meta, []string{"openid"})
			page := <-pages
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil || tok.AccessToken != "at" || tok.Scopes[0] != "openid" {
				t.Fatalf("Authorize = %v, %v", tok, err)
			}
			if !strings.HasPrefix(x.req.RedirectURI, "http://127.0.0.1:") || !strings.HasSuffix(x.req.RedirectURI, "/callback") {
				t.Errorf("redirect URI %q: want http://127.0.0.1:PORT/callback", x.req.RedirectURI)
			}
			if len(x.req.State) < 43 || len(x.req.CodeChallenge) != 43 {
				t.Errorf("state %q / challenge %q too short", x.req.State, x.req.CodeChallenge)
			}
			if strings.Contains(page, "<script>") {
				t.Errorf("result page carries unescaped server input: %s", page)
			}
			if tt.wantPage != "" && !strings.Contains(page, tt.wantPage) {
				t.Errorf("result page lacks %q: %s", tt.wantPage, page)
			}
			assertClosed(t, x.req.RedirectURI)
		})
	}
}

func assertClosed(t *testing.T, redirect string) {
	t.Helper()
	u, _ := url.Parse(redirect)
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("listener %s still open after Authorize returned", u.Host)
	}
}

func TestLoopbackTimeoutClosesListener(t *testing.T) {
	x := &recordingExchanger{}
	l := &Loopback{Timeout: 50 * time.Millisecond, Open: func(context.Context, string) error { return nil }}
	_, err := l.Authorize(context.Background(), x, &provider.AuthServerMetadata{Issuer: "https://as"}, nil)
	if !errors.Is(err, provider.ErrLoginTimeout) {
		t.Fatalf("err = %v, want ErrLoginTimeout", err)
	}
	assertClosed(t, x.req.RedirectURI)
}

func TestLoopbackOpenFailureClosesListener(t *testing.T) {
	x := &recordingExchanger{}
	l := &Loopback{Open: func(context.Context, string) error { return errors.New("no browser") }}
	if _, err := l.Authorize(context.Background(), x, &provider.AuthServerMetadata{Issuer: "https://as"}, nil); err == nil {
		t.Fatal("Authorize succeeded although Open failed")
	}
	assertClosed(t, x.req.RedirectURI)
}

func TestLoopbackBusyConfiguredPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	opened := false
	l := &Loopback{Port: port, Open: func(context.Context, string) error { opened = true; return nil }}
	_, err = l.Authorize(context.Background(), &recordingExchanger{}, &provider.AuthServerMetadata{Issuer: "https://as"}, nil)
	if !errors.Is(err, provider.ErrLoopbackUnavailable) || !strings.Contains(err.Error(), "port "+strconv.Itoa(port)) {
		t.Fatalf("err = %v, want ErrLoopbackUnavailable naming port %d", err, port)
	}
	if opened {
		t.Fatal("URL shown although the listener could not start")
	}
}

func TestLoopbackRefusesServerWithoutS256(t *testing.T) {
	meta := &provider.AuthServerMetadata{Issuer: "https://as", CodeChallengeMethodsSupported: []string{"plain"}}
	_, err := (&Loopback{Open: func(context.Context, string) error { return nil }}).Authorize(context.Background(), &recordingExchanger{}, meta, nil)
	if !errors.Is(err, provider.ErrPKCEUnsupported) || !errors.Is(err, provider.ErrLoopbackUnavailable) {
		t.Fatalf("err = %v, want ErrPKCEUnsupported", err)
	}
}

func TestLoopbackExchangeErrorShownAndReturned(t *testing.T) {
	x := &recordingExchanger{exchErr: &provider.OAuthError{Endpoint: "token", Code: "invalid_grant", Description: "code <used>", StatusCode: 400}}
	open, pages := browser(t, x, func(s string) url.Values { return url.Values{"state": {s}, "code": {"the-code"}} })
	l := &Loopback{Timeout: 10 * time.Second, Open: open}
	_, err := l.Authorize(context.Background(), x, &provider.AuthServerMetadata{Issuer: "https://as"}, nil)
	page := <-pages
	if !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("err = %v, want invalid_grant", err)
	}
	if !strings.Contains(page, "Login failed") || !strings.Contains(page, "code &lt;used&gt;") {
		t.Fatalf("page = %s", page)
	}
}

// TestLoopbackRedirectHost: the redirect URI names the configured host
// (Slack and Entra match "localhost", not the IP literal) while the
// listener stays on loopback; for localhost a browser that resolves it to
// 127.0.0.1 or to ::1 reaches the listener.
func TestLoopbackRedirectHost(t *testing.T) {
	meta := &provider.AuthServerMetadata{Issuer: "https://as.example", CodeChallengeMethodsSupported: []string{"S256"}}
	ipv6 := func() bool {
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			return false
		}
		ln.Close()
		return true
	}()
	tests := []struct {
		name, host, wantPrefix string
		dial                   string // the address the "browser" resolves the host to
		needIPv6               bool
	}{
		{"default", "", "http://127.0.0.1:", "127.0.0.1", false},
		{"localhost via IPv4", "localhost", "http://localhost:", "127.0.0.1", false},
		{"localhost via IPv6", "localhost", "http://localhost:", "::1", true},
		{"ipv6 literal", "::1", "http://[::1]:", "::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needIPv6 && !ipv6 {
				t.Skip("no IPv6 loopback on this machine")
			}
			x := &recordingExchanger{}
			l := Loopback{RedirectHost: tt.host, Timeout: 10 * time.Second, Open: func(ctx context.Context, _ string) error {
				u, err := url.Parse(x.req.RedirectURI)
				if err != nil {
					return err
				}
				go func() {
					addr := net.JoinHostPort(tt.dial, u.Port())
					c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
						return (&net.Dialer{}).DialContext(ctx, network, addr)
					}}}
					resp, err := c.Get(x.req.RedirectURI + "?" + url.Values{"state": {x.req.State}, "code": {"the-code"}}.Encode())
					if err != nil {
						t.Errorf("browser: %v", err)
						return
					}
					resp.Body.Close()
				}()
				return nil
			}}
			tok, err := l.Authorize(context.Background(), x, meta, []string{"openid"})
			if err != nil || tok.AccessToken != "at" {
				t.Fatalf("Authorize: %v, %v", tok, err)
			}
			if !strings.HasPrefix(x.req.RedirectURI, tt.wantPrefix) || !strings.HasSuffix(x.req.RedirectURI, DefaultCallbackPath) {
				t.Errorf("redirect URI %q, want %s…%s", x.req.RedirectURI, tt.wantPrefix, DefaultCallbackPath)
			}
		})
	}
	t.Run("not loopback", func(t *testing.T) {
		l := Loopback{RedirectHost: "evil.example", Open: func(context.Context, string) error { return nil }}
		if _, err := l.Authorize(context.Background(), &recordingExchanger{}, meta, nil); !errors.Is(err, provider.ErrLoopbackUnavailable) {
			t.Fatalf("err = %v", err)
		}
	})
}
