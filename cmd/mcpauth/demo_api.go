package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// demoAPI is the resource server the example server's dev_call_api tool
// calls: one endpoint that needs a scope the first login does not ask for,
// so that calling it shows step-up (RFC 6750 §3.1, SEP-835). It checks
// tokens at the devserver's userinfo endpoint (the devserver's access
// tokens are opaque) and reads the scopes from the claims there: the
// "profile" scope adds "name". It narrates every answer, never the token.
type demoAPI struct {
	URL      string
	userinfo string
	n        *narrator
	srv      *http.Server
	client   *http.Client
}

// demoAPIScope is the scope GET /profile needs.
const demoAPIScope = "profile"

func startDemoAPI(issuer string, n *narrator) (*demoAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo API: %w", err)
	}
	a := &demoAPI{
		URL:      "http://" + ln.Addr().String(),
		userinfo: issuer + "/userinfo",
		n:        n,
		client:   &http.Client{Timeout: 10 * time.Second},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /profile", a.profile)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(ln)
	return a, nil
}

// Close stops the API, waiting briefly for requests in flight.
func (a *demoAPI) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return a.srv.Shutdown(ctx)
}

// profile serves GET /profile: the user's name, for a token with the
// profile scope.
func (a *demoAPI) profile(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		a.refuse(w, http.StatusUnauthorized, `Bearer realm="mcpauth-demo"`, "no bearer token")
		return
	}
	claims, err := a.claims(r.Context(), tok)
	if err != nil {
		a.refuse(w, http.StatusUnauthorized, `Bearer realm="mcpauth-demo", error="invalid_token"`, err.Error())
		return
	}
	name, _ := claims["name"].(string)
	if name == "" {
		a.refuse(w, http.StatusForbidden,
			fmt.Sprintf(`Bearer realm="mcpauth-demo", error="insufficient_scope", scope=%q, error_description="reading the profile needs the %s scope"`, demoAPIScope, demoAPIScope),
			fmt.Sprintf("insufficient_scope: the token lacks %q", demoAPIScope))
		return
	}
	a.n.say("api: GET /profile → 200 (the token has the %q scope)", demoAPIScope)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "profile of %v: name %q", claims["sub"], name)
}

func (a *demoAPI) refuse(w http.ResponseWriter, status int, challenge, why string) {
	a.n.say("api: GET /profile → %d %s", status, why)
	w.Header().Set("WWW-Authenticate", challenge)
	http.Error(w, why, status)
}

// claims asks the devserver's userinfo endpoint about tok.
func (a *demoAPI) claims(ctx context.Context, tok string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.userinfo, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("userinfo answered %d: the token is not valid", resp.StatusCode)
	}
	var claims map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&claims); err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	if claims == nil {
		return nil, errors.New("userinfo: empty answer")
	}
	return claims, nil
}
