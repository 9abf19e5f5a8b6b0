package devidp

import (
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The server's own minimal HTML: zitadel ships no user interface, and the
// example's (exampleop) cannot be mounted without exampleop.SetupServer.
const (
	// LoginPagePath is where the authorization endpoint sends the browser
	// (storage.NativeClient's LoginURL, "/login/username?authRequestID=<id>"):
	// the test user's credentials are filled in, Approve or Deny posts
	// back to it.
	LoginPagePath = "/login/username"
	// DevicePagePath is the device verification page (verification_uri):
	// enter the code, then approve or deny.
	DevicePagePath = "/device"
	// AuthServerMetadataPath serves the RFC 8414 document (§3), the same
	// content as OpenID Connect discovery.
	AuthServerMetadataPath = "/.well-known/oauth-authorization-server"
	// loggedOutPath is where end_session lands without a post_logout_redirect_uri.
	loggedOutPath = "/logged-out"
)

// Form actions.
const (
	actionApprove = "approve"
	actionDeny    = "deny"
)

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.}} - mcpauth devserver</title>
<style>body{font-family:system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em}
input{font-size:1.1em}button{font-size:1.1em;margin-right:.5em}code{font-size:1.1em}
.error{color:#b00}.note{color:#666;font-size:.9em}</style></head>
<body>{{end}}

{{define "request"}}<p>Client <code>{{.ClientID}}</code> asks for
{{if .Scopes}}the scopes {{range $i, $s := .Scopes}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}{{else}}no particular scope{{end}}.</p>{{end}}

{{define "credentials"}}<p><label>Username <input name="username" autocomplete="username" value="{{.Username}}"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" value="{{.Password}}"></label></p>
<p><button type="submit" name="action" value="approve" autofocus>Approve</button>
<button type="submit" name="action" value="deny">Deny</button></p>{{end}}

{{define "login"}}{{template "head" "Sign in"}}
<h1>Sign in</h1>
{{if .Error}}<p id="error" class="error">{{.Error}}</p>{{end}}
<form method="post" action="/login/username">
<input type="hidden" name="id" value="{{.ID}}">
{{template "request" .}}
{{template "credentials" .}}
</form>
<p class="note">A development identity provider: the test user ({{.Username}} / {{.Password}}) is filled in.</p>
</body></html>
{{end}}

{{define "device"}}{{template "head" "Device authorization"}}
<h1>Device authorization</h1>
{{if .Message}}<p id="message">{{.Message}}</p>{{end}}
{{if .Error}}<p id="error" class="error">{{.Error}}</p>{{end}}
{{if .Message}}{{else if .ClientID}}
<form method="post" action="/device">
<input type="hidden" name="user_code" value="{{.UserCode}}">
<p>Code <code>{{.UserCode}}</code></p>
{{template "request" .}}
{{template "credentials" .}}
</form>
{{else}}
<form method="get" action="/device">
<p><label>Enter the code shown on your device: <input name="user_code" value="{{.UserCode}}" autocomplete="off" autofocus></label></p>
<p><button type="submit">Continue</button></p>
</form>
{{end}}
<p class="note">A development identity provider: the test user ({{.Username}} / {{.Password}}) is filled in.</p>
</body></html>
{{end}}
`))

type loginPage struct {
	ID, ClientID       string
	Scopes             []string
	Username, Password string
	Error              string
}

type devicePage struct {
	UserCode, ClientID string
	Scopes             []string
	Username, Password string
	Message, Error     string
}

func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		s.logger.Error("devidp: render page", "page", name, "error", err)
	}
}

// loginForm serves GET /login/username?authRequestID=<id>. With AutoApprove
// it signs the test user in at once and sends the browser back to the
// client. It must run behind the provider's issuer interceptor:
// op.AuthCallbackURL reads the issuer from the context.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	page := loginPage{ID: r.URL.Query().Get("authRequestID"), Username: s.Username, Password: s.Password}
	req, err := s.store.AuthRequestByID(r.Context(), page.ID)
	if err != nil {
		page.Error = "unknown authorization request " + page.ID
		s.render(w, http.StatusBadRequest, "login", page)
		return
	}
	if s.autoApprove {
		if err := s.store.CheckUsernamePassword(s.Username, s.Password, page.ID); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.logger.Info("devidp: authorization request approved automatically", "client_id", req.GetClientID(), "scopes", req.GetScopes())
		http.Redirect(w, r, op.AuthCallbackURL(s.provider)(r.Context(), page.ID), http.StatusFound)
		return
	}
	page.ClientID, page.Scopes = req.GetClientID(), req.GetScopes()
	s.render(w, http.StatusOK, "login", page)
}

// login serves POST /login/username: approve signs the user in with the
// credentials given and returns to the authorization flow; deny sends the
// browser back to the client with error=access_denied. It must run behind
// the provider's issuer interceptor.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot parse form: "+err.Error(), http.StatusBadRequest)
		return
	}
	page := loginPage{ID: r.PostForm.Get("id"), Username: s.Username, Password: s.Password}
	req, err := s.store.AuthRequestByID(r.Context(), page.ID)
	if err != nil {
		page.Error = "unknown authorization request " + page.ID
		s.render(w, http.StatusBadRequest, "login", page)
		return
	}
	page.ClientID, page.Scopes = req.GetClientID(), req.GetScopes()
	switch r.PostForm.Get("action") {
	case actionApprove:
	case actionDeny:
		s.logger.Info("devidp: authorization request denied", "client_id", req.GetClientID())
		_ = s.store.DeleteAuthRequest(r.Context(), page.ID)
		op.AuthRequestError(w, r, req, oidc.ErrAccessDenied().WithDescription("the user denied the request"), s.provider)
		return
	default:
		page.Error = `action must be "approve" or "deny"`
		s.render(w, http.StatusBadRequest, "login", page)
		return
	}
	// Marks the auth request done with the user's ID as subject.
	if err := s.store.CheckUsernamePassword(r.PostForm.Get("username"), r.PostForm.Get("password"), page.ID); err != nil {
		s.logger.Info("devidp: login rejected", "error", err)
		page.Error = err.Error()
		s.render(w, http.StatusUnauthorized, "login", page)
		return
	}
	s.logger.Info("devidp: authorization request approved", "client_id", req.GetClientID(), "scopes", req.GetScopes())
	http.Redirect(w, r, op.AuthCallbackURL(s.provider)(r.Context(), page.ID), http.StatusFound)
}

// deviceForm serves GET /device[?user_code=...], the verification_uri:
// without a code, a form to enter it; with one, what it asks for and the
// Approve and Deny buttons.
func (s *Server) deviceForm(w http.ResponseWriter, r *http.Request) {
	page := devicePage{UserCode: normalizeUserCode(r.URL.Query().Get("user_code")), Username: s.Username, Password: s.Password}
	if page.UserCode != "" {
		req, err := s.store.lookupDevice(r.Context(), page.UserCode)
		if err != nil {
			page.Error = err.Error()
			s.render(w, http.StatusNotFound, "device", page)
			return
		}
		page.ClientID, page.Scopes = req.ClientID, req.Scopes
	}
	s.render(w, http.StatusOK, "device", page)
}

// device serves POST /device: the user signs in and approves or denies.
// "allow" is accepted for "approve".
func (s *Server) device(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot parse form: "+err.Error(), http.StatusBadRequest)
		return
	}
	page := devicePage{
		UserCode: normalizeUserCode(r.PostForm.Get("user_code")),
		Username: s.Username,
		Password: s.Password,
	}
	req, err := s.store.lookupDevice(r.Context(), page.UserCode)
	if err != nil {
		page.Error = err.Error()
		s.render(w, http.StatusBadRequest, "device", page)
		return
	}
	page.ClientID, page.Scopes = req.ClientID, req.Scopes
	username := r.PostForm.Get("username")
	if err := s.store.CheckUsernamePasswordSimple(username, r.PostForm.Get("password")); err != nil {
		page.Error = err.Error()
		s.render(w, http.StatusUnauthorized, "device", page)
		return
	}
	switch action := r.PostForm.Get("action"); action {
	case actionApprove, "allow":
		err = s.store.approveDevice(r.Context(), page.UserCode, s.store.users.GetUserByUsername(username).ID)
		page.Message = "Device authorized. You can return to your device."
	case actionDeny:
		err = s.store.denyDevice(r.Context(), page.UserCode)
		page.Message = "Device authorization denied."
	default:
		page.Error = `action must be "approve" or "deny"`
		s.render(w, http.StatusBadRequest, "device", page)
		return
	}
	if err != nil {
		page.Message, page.Error = "", err.Error()
		s.render(w, http.StatusBadRequest, "device", page)
		return
	}
	s.logger.Info("devidp: device authorization "+r.PostForm.Get("action"), "user_code", page.UserCode, "client_id", page.ClientID)
	s.render(w, http.StatusOK, "device", page)
}

// normalizeUserCode forgives what people type: case and surrounding space.
func normalizeUserCode(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

func loggedOut(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("signed out\n"))
}

// authServerMetadata serves the RFC 8414 document: zitadel builds only the
// OpenID Connect one, and RFC 8414 §3.2 wants the same members. It must run
// behind the provider's issuer interceptor.
func (s *Server) authServerMetadata(w http.ResponseWriter, r *http.Request) {
	op.Discover(w, op.CreateDiscoveryConfig(r.Context(), s.provider, s.store))
}

// handler builds the server's complete HTTP handler.
func (s *Server) handler(rfc8414 bool) http.Handler {
	issuer := op.NewIssuerInterceptor(s.provider.IssuerFromRequest)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+LoginPagePath, issuer.HandlerFunc(s.loginForm))
	mux.HandleFunc("POST "+LoginPagePath, issuer.HandlerFunc(s.login))
	mux.HandleFunc("GET "+DevicePagePath, s.deviceForm)
	mux.HandleFunc("POST "+DevicePagePath, s.device)
	mux.HandleFunc("GET "+loggedOutPath, loggedOut)
	if rfc8414 {
		mux.HandleFunc("GET "+AuthServerMetadataPath, issuer.HandlerFunc(s.authServerMetadata))
	}
	mux.Handle("/", s.provider) // OIDC discovery, authorize, token, userinfo, device_authorization, keys, ...
	return s.countAndLog(mux)
}

// countAndLog counts every request by URL path (when it arrives, so the count
// is current as soon as the caller sees any response) and logs it at debug
// level.
func (s *Server) countAndLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.reqMu.Lock()
		s.reqs[r.URL.Path]++
		s.reqMu.Unlock()

		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.logger.LogAttrs(r.Context(), slog.LevelDebug, "devidp: request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
