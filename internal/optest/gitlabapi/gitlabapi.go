package gitlabapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	//go:embed testdata/projects.json
	projectsJSON string
	//go:embed testdata/user.json
	userJSON string
)

// Server is a running GitLab API fake.
type Server struct {
	*httptest.Server
	userinfo string

	mu       sync.Mutex
	bearers  []string // distinct tokens received, in order
	accepted int
	refused  int
}

// Start starts the fake on 127.0.0.1, checking tokens at userinfoURL (the
// OP's userinfo endpoint), and closes it when the test ends.
func Start(t testing.TB, userinfoURL string) *Server {
	s := &Server{userinfo: userinfoURL}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// APIURL is the API root, the value of GITLAB_API_URL: no trailing slash.
func (s *Server) APIURL() string { return s.URL + "/api/v4" }

// Bearers returns the distinct tokens the fake received, in order, valid or not.
func (s *Server) Bearers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bearers...)
}

// Accepted and Refused count the requests answered with data and with 401.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok {
		s.mu.Lock()
		if n := len(s.bearers); n == 0 || s.bearers[n-1] != tok {
			s.bearers = append(s.bearers, tok)
		}
		s.mu.Unlock()
	}
	sub := ""
	if ok {
		sub = s.subject(r.Context(), tok)
	}
	if sub == "" {
		s.mu.Lock()
		s.refused++
		s.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"401 Unauthorized"}`))
		return
	}
	vars := strings.NewReplacer("$SUBJECT", sub, "$BASE", s.URL, "$SEARCH", safe(r.URL.Query().Get("search")))
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v4/projects":
		w.Header().Set("X-Total", "1")
		_, _ = w.Write([]byte(vars.Replace(projectsJSON)))
	case r.Method == http.MethodGet && r.URL.Path == "/api/v4/user":
		_, _ = w.Write([]byte(vars.Replace(userJSON)))
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"404 Not Found"}`))
		return
	}
	s.mu.Lock()
	s.accepted++
	s.mu.Unlock()
}

// safe keeps a search term that can stand inside a JSON string as is.
func safe(q string) string {
	b, _ := json.Marshal(q)
	return strings.Trim(string(b), `"`)
}

// subject asks the OP whose token this is; "" for a token it does not
// accept (401 unknown, 403 expired or revoked).
func (s *Server) subject(ctx context.Context, tok string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.userinfo, nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var claims struct {
		Sub string `json:"sub"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&claims) != nil {
		return ""
	}
	return claims.Sub
}
