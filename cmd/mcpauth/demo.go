package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcpauth/mcpauth/internal/devidp"
)

// demoProvider is the provider name the example server is given: its tools
// are then dev_whoami and dev_call_api.
const demoProvider = "dev"

// errDemoTimeout is the cause of the demo's context when --timeout passes.
var errDemoTimeout = errors.New("--timeout passed")

// demoConfig is what the demo's flags say.
type demoConfig struct {
	autoApprove bool
	timeout     time.Duration
	serverBin   string // --server; empty: this binary, __example-server
	open        bool
	qr          bool
	verbose     bool
}

func runDemo(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("demo", "demo [--auto-approve] [--timeout 5m] [--server PATH] [--open] [--no-qr] [-v]\n\n"+
		"Shows mcpauth end to end, on this machine only: starts a development identity\n"+
		"provider and a small API, starts the example MCP server (this binary again) over\n"+
		"stdio, and acts as its MCP client. A protected tool call makes the server ask\n"+
		"you to log in (a link and a code); you approve in the browser and the tool runs.\n"+
		"Then step-up (an API that needs one more scope: a second approval) and explicit\n"+
		"mode (auth_login, auth_status, auth_logout: a third approval). Everything is\n"+
		"narrated on stderr. Exit codes: 0 every step succeeded, 1 a step failed or\n"+
		"--timeout passed, 2 usage error.", stderr)
	var cfg demoConfig
	fs.BoolVar(&cfg.autoApprove, "auto-approve", false, "the identity provider approves every login by itself, nobody is asked (CI, a quick look)")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "give up after this long, whatever step the demo is at")
	fs.StringVar(&cfg.serverBin, "server", "", "a built example server to run (go build -o PATH ./internal/testserver); default: the one built into this binary")
	fs.BoolVar(&cfg.open, "open", false, "open each login link in this machine's browser")
	noQR := fs.Bool("no-qr", false, "do not draw a QR code of the login link (drawn only when stderr is a terminal)")
	fs.BoolVar(&cfg.verbose, "v", false, "also show the identity provider's and the example server's logs")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.timeout <= 0 {
		fmt.Fprintf(stderr, "--timeout %v: want a positive duration such as 5m\n", cfg.timeout)
		fs.Usage()
		return errUsage
	}
	cfg.qr = !*noQR

	ctx, cancel := context.WithTimeoutCause(ctx, cfg.timeout, errDemoTimeout)
	defer cancel()
	n := newNarrator(stderr, isTerminal(stderr))
	n.deadline, _ = ctx.Deadline()

	// zitadel/oidc logs every OAuth error answer, authorization_pending
	// polls included, through slog.Default: keep them off the narration.
	defer restoreLogging(slog.Default(), log.Writer(), log.Flags())
	if cfg.verbose {
		slog.SetDefault(slog.New(n.logHandler("devserver (zitadel)", slog.LevelWarn)))
	} else {
		slog.SetDefault(slog.New(slog.DiscardHandler))
	}

	d := &demo{cfg: cfg, n: n}
	err := d.run(ctx)
	n.stopWaiting()
	if err == nil {
		return nil
	}
	n.blank()
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errDemoTimeout):
		err = fmt.Errorf("gave up after %v (--timeout) while %s: %w", cfg.timeout, d.doing, err)
	case cause != nil:
		return fmt.Errorf("interrupted while %s: %w", d.doing, err)
	default:
		err = fmt.Errorf("while %s: %w", d.doing, err)
	}
	d.showServerLog()
	return err
}

// demo is one run of `mcpauth demo`.
type demo struct {
	cfg   demoConfig
	n     *narrator
	doing string // what the demo is doing, for error messages

	idp    *devidp.Server
	api    *demoAPI
	logs   []*serverLog // the example servers' stderr, for failures
	logins atomic.Int32 // logins shown so far, to number them
}

// demoSteps is the number of steps run announces.
const demoSteps = 8

func (d *demo) run(ctx context.Context) error {
	n := d.n
	n.title("mcpauth demo: a stdio MCP server obtains OAuth tokens at run time, instead of reading a token from a config file.")

	d.doing = "starting the development identity provider"
	n.step("Start a development identity provider (the devserver, in this process)")
	level := slog.LevelInfo
	if d.cfg.verbose {
		level = slog.LevelDebug
	}
	idp, err := devidp.New(devidp.Options{AutoApprove: d.cfg.autoApprove, Logger: slog.New(n.logHandler("devserver", level))})
	if err != nil {
		return err
	}
	defer idp.Close()
	d.idp = idp
	approval := "in your browser: open the link the server shows and enter its code"
	if d.cfg.autoApprove {
		approval = "automatic (--auto-approve): the devserver approves every login by itself"
	}
	n.fields(
		"issuer", idp.Issuer,
		"client id", idp.ClientID+" (a public native client: no secret)",
		"user", idp.Username+" / "+idp.Password+" (filled in on the approval page)",
		"approval", approval,
	)

	d.doing = "starting the demo API"
	n.step("Start a small API that the server's tools call with the token")
	d.api, err = startDemoAPI(idp.Issuer, n)
	if err != nil {
		return err
	}
	defer d.api.Close()
	n.fields("api", d.api.URL,
		"GET /profile", `needs the "profile" scope: without it, 403 insufficient_scope (RFC 6750 §3.1)`)

	d.doing = "preparing the example server"
	n.step("Get the example MCP server (built into this binary)")
	server, err := d.exampleServer()
	if err != nil {
		return err
	}

	if err := d.lazy(ctx, server); err != nil {
		return err
	}
	if err := d.explicit(ctx, server); err != nil {
		return err
	}

	d.doing = "finishing"
	n.blank()
	n.title("Demo complete: three logins, one scope step-up, one logout. The tokens stayed in the example server's memory; this client never saw one.")
	return nil
}

// serverArgs are the example server's flags for this demo.
func (d *demo) serverArgs(mode string) []string {
	return []string{
		"-name", demoProvider,
		"-issuer", d.idp.Issuer,
		"-client-id", d.idp.ClientID,
		"-scopes", "openid offline_access",
		// The device grant: a link and a code, which this client can show
		// whatever machine the browser is on.
		"-grant", "device",
		"-api", d.api.URL,
		"-mode", mode,
		"-wait", d.cfg.timeout.String(),
	}
}

// lazy runs steps 4-6: lazy mode, a protected call that needs a login, and
// a scope step-up.
func (d *demo) lazy(ctx context.Context, server []string) error {
	n := d.n
	d.doing = "starting the example server in lazy mode"
	n.step("Start the example server over stdio in lazy mode, and connect to it as an MCP client")
	s, err := d.connect(ctx, server, "lazy")
	if err != nil {
		return err
	}
	defer s.close()
	if _, err := s.listTools(ctx); err != nil {
		return err
	}
	n.say("Lazy mode lists every tool; a protected one logs in when it is first called (auth_status and auth_logout show and forget the login).")

	whoami := demoProvider + "_whoami"
	d.doing = "calling " + whoami
	n.step("Call the protected tool " + whoami + " (the server has no token yet)")
	res, err := s.call(ctx, whoami, nil)
	if err != nil {
		return err
	}
	if want := "subject: " + d.idp.Username; res != want {
		return fmt.Errorf("%s answered %q, want %q", whoami, res, want)
	}

	callAPI := demoProvider + "_call_api"
	d.doing = "calling " + callAPI + " for the step-up"
	n.step("Step-up: " + callAPI + ` GET /profile, which needs the "profile" scope the token lacks`)
	n.say("The server sends the request with its token; the API refuses it and names the scope it")
	n.say("wants; the server asks you to approve the union of the scopes, then sends the request again.")
	res, err = s.call(ctx, callAPI, map[string]any{"method": "GET", "path": "profile"})
	if err != nil {
		return err
	}
	if !strings.HasPrefix(res, "200 ") {
		return fmt.Errorf("%s answered %q, want a 200 from the API", callAPI, res)
	}
	d.doing = "calling " + whoami + " again"
	n.say("Calling %s again needs no login: the stepped-up token is reused.", whoami)
	if res, err = s.call(ctx, whoami, nil); err != nil {
		return err
	}
	if got := s.loginCount(); got != 2 {
		return fmt.Errorf("the server asked for %d logins in lazy mode, want 2 (the first call, the step-up)", got)
	}
	return nil
}

// explicit runs steps 7-8: explicit mode, auth_login, auth_status and
// auth_logout.
func (d *demo) explicit(ctx context.Context, server []string) error {
	n := d.n
	d.doing = "starting the example server in explicit mode"
	n.step("Explicit mode: a second example server lists auth_login and auth_status until you log in")
	s, err := d.connect(ctx, server, "explicit")
	if err != nil {
		return err
	}
	defer s.close()
	tools, err := s.listTools(ctx)
	if err != nil {
		return err
	}
	protected := demoProvider + "_whoami"
	if slices.Contains(tools, protected) {
		return fmt.Errorf("explicit mode lists %s before any login", protected)
	}
	d.doing = "calling auth_status"
	res, err := s.call(ctx, "auth_status", nil)
	if err != nil {
		return err
	}
	if !strings.Contains(res, "not logged in") {
		return fmt.Errorf("auth_status before the login answered %q, want it to say not logged in", res)
	}
	d.doing = "calling auth_login"
	if _, err := s.call(ctx, "auth_login", nil); err != nil {
		return err
	}
	if tools, err = s.listTools(ctx); err != nil {
		return err
	}
	if !slices.Contains(tools, protected) || !slices.Contains(tools, "auth_logout") {
		return fmt.Errorf("after auth_login the server lists %v, want %s and auth_logout among them", tools, protected)
	}
	d.doing = "calling " + protected
	if _, err := s.call(ctx, protected, nil); err != nil {
		return err
	}

	d.doing = "calling auth_logout"
	n.step("Log out: auth_logout revokes the token at the issuer and forgets it; the protected tools disappear again")
	if _, err := s.call(ctx, "auth_logout", nil); err != nil {
		return err
	}
	if tools, err = s.listTools(ctx); err != nil {
		return err
	}
	if slices.Contains(tools, protected) {
		return fmt.Errorf("after auth_logout the server still lists %s", protected)
	}
	d.doing = "calling auth_status after the logout"
	if res, err = s.call(ctx, "auth_status", nil); err != nil {
		return err
	}
	if !strings.Contains(res, "not logged in") {
		return fmt.Errorf("auth_status after auth_logout answered %q, want it to say not logged in", res)
	}
	n.say("A protected call would need a new login now: auth_login again.")
	if got := s.loginCount(); got != 1 {
		return fmt.Errorf("the server asked for %d logins in explicit mode, want 1 (auth_login)", got)
	}
	return nil
}

// showServerLog prints the end of the example servers' logs after a
// failure, unless -v showed them already.
func (d *demo) showServerLog() {
	if d.cfg.verbose {
		return
	}
	for _, l := range d.logs {
		if lines := l.tail(); len(lines) > 0 {
			d.n.plain("\nThe last lines the example server (%s mode) logged:\n", l.mode)
			for _, line := range lines {
				d.n.plain("  %s\n", line)
			}
		}
	}
}

// exampleServer returns the command that starts the example server:
// --server, or this binary's hidden verb.
func (d *demo) exampleServer() ([]string, error) {
	if d.cfg.serverBin != "" {
		d.n.fields("server", d.cfg.serverBin+" (--server)")
		return []string{d.cfg.serverBin}, nil
	}
	command, err := exampleServerCommand()
	if err != nil {
		return nil, err
	}
	d.n.fields("server", shellQuote([]string{filepath.Base(command[0]), exampleServerVerb})+" (this binary: the example server is built in)")
	return command, nil
}
