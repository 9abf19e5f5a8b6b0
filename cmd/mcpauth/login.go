package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/internal/browser"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

func runLogin(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("login", "login (--issuer URL | --resource URL) --client-id ID [flags]", stderr)
	issuer := fs.String("issuer", "", "issuer URL of the authorization server")
	resource := fs.String("resource", "", "API URL whose RFC 9728 metadata names the authorization server (instead of --issuer)")
	clientID := fs.String("client-id", "", "OAuth client ID registered for this application (public, native)")
	scopes := fs.String("scopes", "openid", "scopes to request, separated by spaces or commas")
	grant := fs.String("grant", "auto", "grant: auto (PKCE with a local browser, else device), device or pkce")
	port := fs.Int("port", 0, "loopback port for the PKCE redirect (0: any free port)")
	noBrowser := fs.Bool("no-browser", false, "print the PKCE login URL instead of opening a browser")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	verbose := fs.Bool("v", false, "verbose logs")
	if err := parse(fs, args); err != nil {
		return err
	}
	pref, err := login.ParseGrantPreference(*grant)
	if err != nil || (*issuer == "") == (*resource == "") || *clientID == "" {
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "--grant: %v\n", err)
		case *clientID == "":
			fmt.Fprintln(stderr, "--client-id is required")
		default:
			fmt.Fprintln(stderr, "give exactly one of --issuer and --resource")
		}
		fs.Usage()
		return errUsage
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	var disc discovery.Discoverer
	iss := *issuer
	if *resource != "" {
		prm, as, err := disc.ForResource(ctx, *resource)
		if err != nil {
			return err
		}
		iss = as.Issuer
		fmt.Fprintf(stderr, "%s is protected by %s (from %s)\n", *resource, iss, prm.Source)
	}
	d, err := oidc.New(oidc.Config{
		Issuer:   iss,
		ClientID: *clientID,
		Scopes:   oidc.ParseScopes(*scopes),
		Discover: func(ctx context.Context, iss string) (*provider.AuthServerMetadata, error) {
			return disc.AuthServer(ctx, iss)
		},
	})
	if err != nil {
		return err
	}
	meta, err := d.Metadata(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Authorization server %s (metadata from %s)\n", meta.Issuer, meta.Source)

	tty := isTerminal(stderr)
	l := &login.Login{
		Preference: pref,
		Logger:     logger,
		Device: login.DevicePoller{OnProgress: func(p login.DeviceProgress) {
			printProgress(stderr, tty, p)
		}},
		Loopback: login.Loopback{Port: *port, Timeout: *timeout, Open: func(ctx context.Context, u string) error {
			fmt.Fprintf(stderr, "\nLog in in your browser:\n\n  %s\n\n", u)
			if !*noBrowser {
				if err := browser.Open(ctx, u); err != nil {
					fmt.Fprintf(stderr, "(could not open a browser: %v; open the URL yourself)\n", err)
				}
			}
			fmt.Fprintln(stderr, "Waiting for the browser to come back…")
			return nil
		}},
		ShowDevice: func(ctx context.Context, da *provider.DeviceAuthorization) error {
			fmt.Fprintf(stderr, "\nTo log in, open\n\n  %s\n\nand enter the code\n\n  %s\n\n", da.VerificationURI, da.UserCode)
			if da.VerificationURIComplete != "" {
				fmt.Fprintf(stderr, "(or open %s)\n\n", da.VerificationURIComplete)
			}
			if !da.ExpiresAt.IsZero() {
				fmt.Fprintf(stderr, "The code expires at %s.\n", da.ExpiresAt.Local().Format(time.Kitchen))
			}
			return nil
		},
	}
	if pref == login.PreferAuto {
		choice, err := login.SelectGrant(pref, d.Describe(), meta, login.DetectEnvironment())
		if err == nil {
			fmt.Fprintf(stderr, "Using the %s grant: %s\n", choice.Grant, choice.Reason)
		}
	}
	tok, err := l.Run(ctx, d, oidc.ParseScopes(*scopes))
	if tty {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "\nLogged in.")
	if id, err := d.Identity(ctx, tok); err == nil {
		who := id.Subject
		if id.DisplayName != "" && id.DisplayName != id.Subject {
			who = fmt.Sprintf("%s (%s)", id.DisplayName, id.Subject)
		}
		fmt.Fprintf(stderr, "  user:    %s\n", who)
	} else {
		fmt.Fprintf(stderr, "  user:    unknown (%v)\n", err)
	}
	fmt.Fprintf(stderr, "  scopes:  %s\n", strings.Join(tok.Scopes, " "))
	if tok.Expiry.IsZero() {
		fmt.Fprintln(stderr, "  expires: never (per the server)")
	} else {
		fmt.Fprintf(stderr, "  expires: %s (in %s)\n", tok.Expiry.Local().Format(time.RFC3339), time.Until(tok.Expiry).Round(time.Second))
	}
	fmt.Fprintf(stderr, "  refresh: %v\n", tok.RefreshToken != "")
	fmt.Fprintln(stderr, "The token stays in this process's memory and is gone when it exits.")
	return nil
}

func printProgress(w io.Writer, tty bool, p login.DeviceProgress) {
	left := ""
	if p.Total > 0 {
		left = fmt.Sprintf(", code expires in %s", (p.Total - p.Elapsed).Round(time.Second))
	}
	line := fmt.Sprintf("Waiting for approval… %s elapsed%s", p.Elapsed.Round(time.Second), left)
	if tty {
		fmt.Fprintf(w, "\r\033[K%s", line)
		return
	}
	fmt.Fprintln(w, line)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
