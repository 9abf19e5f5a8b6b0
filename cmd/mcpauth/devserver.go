package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"

	"github.com/mcpauth/mcpauth/internal/devidp"
	"github.com/mcpauth/mcpauth/provider"
)

// devserverInfo is the one line devserver prints on stdout, for scripts
// and tests: everything needed to log in.
type devserverInfo struct {
	Issuer      string `json:"issuer"`
	ClientID    string `json:"client_id"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	AutoApprove bool   `json:"auto_approve"`
}

func runDevserver(ctx context.Context, args []string, stderr io.Writer) error {
	return devserver(ctx, args, os.Stdout, stderr)
}

func devserver(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devserver", "devserver [--addr 127.0.0.1:PORT] [--auto-approve] [--client-id ID] [-v]\n\n"+
		"Runs a development identity provider on loopback until interrupted: device grant,\n"+
		"authorization code + PKCE, refresh, RFC 8414 and OpenID Connect discovery, one test\n"+
		"user, approval in the browser (or automatic). Prints its issuer and client ID on\n"+
		"stderr, and as one JSON line on stdout.", stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on; port 0 picks a free one (a fixed port keeps the issuer stable across runs)")
	auto := fs.Bool("auto-approve", false, "approve every device code and browser login at once, without asking (headless use, tests)")
	clientID := fs.String("client-id", devidp.DefaultClientID, "client_id of the public native client (no secret)")
	verbose := fs.Bool("v", false, "log every request and the OAuth errors it answers")
	if err := parse(fs, args); err != nil {
		return err
	}
	if host, _, err := net.SplitHostPort(*addr); err != nil || !provider.IsLoopbackHost(host) {
		fmt.Fprintf(stderr, "--addr %q: want a loopback address such as 127.0.0.1:9999 (the dev server must not be reachable from other machines)\n", *addr)
		fs.Usage()
		return errUsage
	}
	if *clientID == "" {
		fmt.Fprintln(stderr, "--client-id must not be empty")
		fs.Usage()
		return errUsage
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// zitadel/oidc logs every OAuth error answer through slog.Default at
	// info level, authorization_pending polls included: keep warnings only
	// unless asked.
	zitadelLogs := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *verbose {
		zitadelLogs = logger
	}
	defer restoreLogging(slog.Default(), log.Writer(), log.Flags())
	slog.SetDefault(zitadelLogs)

	srv, err := devidp.New(devidp.Options{Addr: *addr, ClientID: *clientID, AutoApprove: *auto, Logger: logger})
	if err != nil {
		return err
	}
	defer srv.Close()

	printDevserver(stderr, srv, *auto)
	line, err := json.Marshal(devserverInfo{Issuer: srv.Issuer, ClientID: srv.ClientID, Username: srv.Username, Password: srv.Password, AutoApprove: *auto})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return err
	}

	<-ctx.Done()
	fmt.Fprintln(stderr, "Stopping the dev server.")
	return srv.Close()
}

// restoreLogging undoes slog.SetDefault, which also redirects the log
// package.
func restoreLogging(l *slog.Logger, w io.Writer, flags int) {
	slog.SetDefault(l)
	log.SetOutput(w)
	log.SetFlags(flags)
}

func printDevserver(w io.Writer, srv *devidp.Server, auto bool) {
	iss := srv.Issuer
	approval := "in the browser: logins on the page the browser is sent to, device codes at " + iss + devidp.DevicePagePath
	if auto {
		approval = "automatic (--auto-approve): every device code and login is approved at once"
	}
	fmt.Fprintf(w, `mcpauth devserver: a development identity provider. Never use it for anything real.

  issuer      %[1]s
  client id   %[2]s  (public native client, no secret)
  user        %[3]s / %[4]s
  grants      device; authorization code + PKCE S256 (redirect http://127.0.0.1:<any port>/callback);
              refresh (request the offline_access scope)
  approval    %[5]s
  metadata    %[1]s%[6]s (RFC 8414)
              %[1]s/.well-known/openid-configuration (OpenID Connect)

Try it:
  mcpauth discover %[1]s
  mcpauth login --issuer %[1]s --client-id %[2]s --scopes "openid offline_access"

In a config file:
  providers:
    - name: dev
      issuer: %[1]s
      client_id: %[2]s
      scopes: [openid, offline_access]

or in the environment:
  MCPAUTH_PROVIDERS=dev MCPAUTH_PROVIDERS_DEV_ISSUER=%[1]s MCPAUTH_PROVIDERS_DEV_CLIENT_ID=%[2]s

Running until interrupted (Ctrl-C or SIGTERM).
`, iss, srv.ClientID, srv.Username, srv.Password, approval, devidp.AuthServerMetadataPath)
}
