package logintest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mcpauth/mcpauth/provider"
)

// Secret is the credential the replies of [UnparseableTokenReplies] carry:
// no error a driver returns for them may contain it.
const Secret = "sEcReT-7f3c9a1d"

// Reply is one canned HTTP reply.
type Reply struct {
	Name        string
	Status      int
	ContentType string
	Body        string
}

// UnparseableTokenReplies are token endpoint replies that carry Secret as
// access and refresh token but cannot be read as a token: a field of the
// wrong type, a semicolon in a form body, an HTML page, broken JSON. A
// driver that quotes the body in its error leaks the tokens.
var UnparseableTokenReplies = []Reply{
	{"scope as an array", 200, "application/json", `{"access_token":"` + Secret + `","refresh_token":"` + Secret + `","scope":["a"]}`},
	{"expires_in with a unit", 200, "application/json", `{"access_token":"` + Secret + `","refresh_token":"` + Secret + `","expires_in":"3600s"}`},
	{"token_type as a number", 200, "application/json", `{"access_token":"` + Secret + `","token_type":7}`},
	{"access_token as a number", 200, "application/json", `{"access_token":7` + strings.Repeat("1", 3) + `,"refresh_token":"` + Secret + `"}`},
	{"broken JSON", 200, "application/json", `{"access_token":"` + Secret + `","refresh_token":"` + Secret + `"`},
	{"bare word", 200, "application/json", `{"access_token":` + Secret + `}`},
	{"semicolon in a form", 200, "application/x-www-form-urlencoded", "access_token=" + Secret + ";refresh_token=" + Secret},
	{"bad escape in a form", 200, "application/x-www-form-urlencoded", "access_token=" + Secret + "%zz&refresh_token=" + Secret},
	{"HTML page", 502, "text/html", "<html><body>upstream said access_token=" + Secret + "</body></html>"},
	{"error page without a code", 500, "application/json", `{"message":"failed","access_token":"` + Secret + `"}`},
	{"Slack ok:false without an error", 200, "application/json", `{"ok":false,"authed_user":{"access_token":"` + Secret + `"}}`},
	{"Slack user token with a bad expiry", 200, "application/json", `{"ok":true,"authed_user":{"access_token":"` + Secret + `","refresh_token":"` + Secret + `","expires_in":"soon"}}`},
}

// ReplyServer is an httptest server on loopback that answers every request
// with its current Reply.
type ReplyServer struct {
	*httptest.Server
	reply atomic.Pointer[Reply]
}

// NewReplyServer starts a ReplyServer, closed when the test ends.
func NewReplyServer(t testing.TB) *ReplyServer {
	s := &ReplyServer{}
	s.reply.Store(&Reply{Status: 500})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := s.reply.Load()
		w.Header().Set("Content-Type", rep.ContentType)
		w.WriteHeader(rep.Status)
		w.Write([]byte(rep.Body))
	}))
	t.Cleanup(s.Close)
	return s
}

// Set makes the server answer r from now on.
func (s *ReplyServer) Set(r Reply) { s.reply.Store(&r) }

// TokenCalls are a driver's calls that reach the token endpoint: the code
// exchange, the device poll and the refresh, where it has them.
func TokenCalls(d provider.Driver) map[string]func(context.Context) (*provider.Token, error) {
	calls := map[string]func(context.Context) (*provider.Token, error){}
	if ce, ok := d.(provider.CodeExchanger); ok {
		calls["exchange"] = func(ctx context.Context) (*provider.Token, error) {
			return ce.Exchange(ctx, "code", "verifier", "http://127.0.0.1:1/callback")
		}
	}
	if da, ok := d.(provider.DeviceAuthorizer); ok && d.Describe().Offers(provider.GrantDevice) {
		calls["device poll"] = func(ctx context.Context) (*provider.Token, error) {
			return da.PollDevice(ctx, &provider.DeviceAuthorization{DeviceCode: "dc", UserCode: "UC"})
		}
	}
	if r, ok := d.(provider.Refresher); ok {
		calls["refresh"] = func(ctx context.Context) (*provider.Token, error) {
			return r.Refresh(ctx, &provider.Token{AccessToken: "old", RefreshToken: "old-refresh"})
		}
	}
	return calls
}

// NoSecretInErrors feeds each of UnparseableTokenReplies to each of the
// driver's token calls (the driver's token endpoint must be srv) and fails
// the test if a call succeeds or its error text contains Secret.
func NoSecretInErrors(t *testing.T, d provider.Driver, srv *ReplyServer) {
	t.Helper()
	calls := TokenCalls(d)
	if len(calls) == 0 {
		t.Fatal("logintest: the driver makes no token requests")
	}
	for _, rep := range UnparseableTokenReplies {
		srv.Set(rep)
		for name, call := range calls {
			tok, err := call(Context(t))
			if err == nil {
				t.Errorf("%s, %s: accepted as %v", rep.Name, name, tok)
				continue
			}
			if strings.Contains(err.Error(), Secret) {
				t.Errorf("%s, %s: the error quotes the secret: %v", rep.Name, name, err)
			}
		}
	}
}
