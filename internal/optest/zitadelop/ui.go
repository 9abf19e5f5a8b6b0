package zitadelop

import (
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// The OP's own minimal HTML: zitadel ships no user interface, and the
// example's (exampleop) cannot be mounted without exampleop.SetupServer.
const (
	// loginPath is where storage.NativeClient's LoginURL sends the browser
	// ("/login/username?authRequestID=<id>"); the form posts back to it.
	loginPath = "/login/username"
	// devicePath is the device verification page (verification_uri).
	devicePath = "/device"
	// loggedOutPath is where end_session lands without a post_logout_redirect_uri.
	loggedOutPath = "/logged-out"
)

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.}} - mcpauth test OP</title></head>
<body>{{end}}

{{define "login"}}{{template "head" "Sign in"}}
<h1>Sign in</h1>
<form method="post" action="/login/username">
<input type="hidden" name="id" value="{{.ID}}">
<p><label>Username <input name="username" autocomplete="username" value="{{.Username}}"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
{{if .Error}}<p id="error" style="color:red">{{.Error}}</p>{{end}}
<p><button type="submit">Sign in</button></p>
</form>
<p>Test user: {{.Username}} / {{.Password}}</p>
</body></html>
{{end}}

{{define "device"}}{{template "head" "Device authorization"}}
<h1>Device authorization</h1>
{{if .Message}}<p id="message">{{.Message}}</p>{{end}}
{{if .Error}}<p id="error" style="color:red">{{.Error}}</p>{{end}}
{{if not .Message}}
<form method="post" action="/device">
<p><label>Code <input name="user_code" value="{{.UserCode}}"></label></p>
<p><label>Username <input name="username" autocomplete="username" value="{{.Username}}"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
<p><button type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="deny">Deny</button></p>
</form>
<p>Test user: {{.Username}} / {{.Password}}</p>
{{end}}
</body></html>
{{end}}
`))

type loginPage struct {
	ID, Username, Password, Error string
}

type devicePage struct {
	UserCode, Username, Password, Message, Error string
}

func (o *OP) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		o.logger.Error("zitadelop: render page", "page", name, "error", err)
	}
}

// loginForm serves GET /login/username?authRequestID=<id>.
func (o *OP) loginForm(w http.ResponseWriter, r *http.Request) {
	o.render(w, http.StatusOK, "login", loginPage{
		ID:       r.URL.Query().Get("authRequestID"),
		Username: o.Username,
		Password: o.Password,
	})
}

// login serves POST /login/username. It must run behind the provider's
// issuer interceptor: op.AuthCallbackURL reads the issuer from the context.
func (o *OP) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot parse form: "+err.Error(), http.StatusBadRequest)
		return
	}
	page := loginPage{ID: r.PostForm.Get("id"), Username: o.Username, Password: o.Password}
	if _, err := o.store.AuthRequestByID(r.Context(), page.ID); err != nil {
		page.Error = "unknown authorization request " + page.ID
		o.render(w, http.StatusBadRequest, "login", page)
		return
	}
	// Marks the auth request done with the user's ID as subject.
	if err := o.store.CheckUsernamePassword(r.PostForm.Get("username"), r.PostForm.Get("password"), page.ID); err != nil {
		o.logger.Info("zitadelop: login rejected", "error", err)
		page.Error = err.Error()
		o.render(w, http.StatusUnauthorized, "login", page)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(o.provider)(r.Context(), page.ID), http.StatusFound)
}

// deviceForm serves GET /device[?user_code=...], the verification_uri.
func (o *OP) deviceForm(w http.ResponseWriter, r *http.Request) {
	o.render(w, http.StatusOK, "device", devicePage{
		UserCode: r.URL.Query().Get("user_code"),
		Username: o.Username,
		Password: o.Password,
	})
}

// device serves POST /device: the user signs in and allows or denies.
func (o *OP) device(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot parse form: "+err.Error(), http.StatusBadRequest)
		return
	}
	page := devicePage{
		UserCode: normalizeUserCode(r.PostForm.Get("user_code")),
		Username: o.Username,
		Password: o.Password,
	}
	username := r.PostForm.Get("username")
	if err := o.store.CheckUsernamePasswordSimple(username, r.PostForm.Get("password")); err != nil {
		page.Error = err.Error()
		o.render(w, http.StatusUnauthorized, "device", page)
		return
	}
	var err error
	switch action := r.PostForm.Get("action"); action {
	case "allow":
		err = o.store.approveDevice(r.Context(), page.UserCode, o.store.users.GetUserByUsername(username).ID)
		page.Message = "Device authorized. You can return to your device."
	case "deny":
		err = o.store.denyDevice(r.Context(), page.UserCode)
		page.Message = "Device authorization denied."
	default:
		page.Error = `action must be "allow" or "deny"`
		o.render(w, http.StatusBadRequest, "device", page)
		return
	}
	if err != nil {
		page.Message, page.Error = "", err.Error()
		o.render(w, http.StatusBadRequest, "device", page)
		return
	}
	o.render(w, http.StatusOK, "device", page)
}

// normalizeUserCode forgives what people type: case and surrounding space.
func normalizeUserCode(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

func loggedOut(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("signed out\n"))
}

// handler builds the OP's complete HTTP handler.
func (o *OP) handler() http.Handler {
	issuer := op.NewIssuerInterceptor(o.provider.IssuerFromRequest)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+loginPath, o.loginForm)
	mux.HandleFunc("POST "+loginPath, issuer.HandlerFunc(o.login))
	mux.HandleFunc("GET "+devicePath, o.deviceForm)
	mux.HandleFunc("POST "+devicePath, o.device)
	mux.HandleFunc("GET "+loggedOutPath, loggedOut)
	mux.Handle("/", o.provider) // discovery, authorize, token, userinfo, device_authorization, keys, ...
	return o.countAndLog(mux)
}

// countAndLog counts every request by URL path (when it arrives, so the count
// is current as soon as the caller sees any response) and logs it at debug
// level.
func (o *OP) countAndLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.reqMu.Lock()
		o.reqs[r.URL.Path]++
		o.reqMu.Unlock()

		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		o.logger.LogAttrs(r.Context(), slog.LevelDebug, "zitadelop: request",
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
