package logintest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Server is an issuer fake's loopback HTTP server. It counts the requests
// it receives by path, so a test can assert what a driver asked for and how
// often, and it is closed when the test ends.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	requests map[string]int // URL path → count
}

// NewServer starts a Server with handler on 127.0.0.1 for the test.
func NewServer(t testing.TB, handler http.Handler) *Server {
	s := &Server{requests: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests returns how many requests for path the server has received.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}
