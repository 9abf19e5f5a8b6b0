package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/internal/browser"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
	"github.com/mcpauth/mcpauth/sdk"
	"github.com/mcpauth/mcpauth/tokenstore"
)

func runLogin(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("login", "login [--config FILE] (--provider NAME | --issuer URL | --resource URL) [--client-id ID] [flags]\n\n"+
		"Logs in from the terminal, resolving the driver as a server does: --provider takes a\n"+
		"provider from the config file (flags given override its fields); --issuer or --resource\n"+
		"describe one on the command line. Prints who logged in, the scopes and the expiry,\n"+
		"never the token. With --store (or the provider's store: setting) the login is kept in\n"+
		"that token store, so a server configured with it starts logged in.", stderr)
	cfgPath := fs.String("config", "", "config file for --provider (default: $MCPAUTH_CONFIG, then the user config directory)")
	name := fs.String("provider", "", "the provider to log in to, by its name in the config file")
	issuer := fs.String("issuer", "", "issuer URL of the authorization server")
	resource := fs.String("resource", "", "API URL whose RFC 9728 metadata names the authorization server (instead of --issuer)")
	clientID := fs.String("client-id", "", "OAuth client ID registered for this application (public, native)")
	driverName := fs.String("driver", "", "driver to use (default: resolved from the issuer: "+strings.Join(drivers.Names(), ", ")+")")
	scopes := fs.String("scopes", "", "scopes to request, separated by spaces or commas (default: the provider's, else openid)")
	grant := fs.String("grant", "", "grant: auto (PKCE with a local browser, else device), device or pkce (default: the provider's, else auto)")
	port := fs.Int("port", 0, "loopback port for the PKCE redirect (0: any free port)")
	noBrowser := fs.Bool("no-browser", false, "print the PKCE login URL instead of opening a browser")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	verbose := fs.Bool("v", false, "verbose logs")
	storeKind := fs.String("store", "", "keep the login in this token store: keychain or file (default: the provider's store setting, else memory: kept nowhere)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if k := *storeKind; k != "" && k != config.StoreMemory && k != config.StoreKeychain && k != config.StoreFile {
		fmt.Fprintf(stderr, "--store %q: want memory, keychain or file\n", k)
		fs.Usage()
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if _, err := login.ParseGrantPreference(*grant); err != nil {
		fmt.Fprintf(stderr, "--grant: %v\n", err)
		fs.Usage()
		return errUsage
	}
	if problem := loginUsageProblem(*name, *issuer, *resource, *clientID); problem != "" {
		fmt.Fprintln(stderr, problem)
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

	p, closeDrivers, err := loginProvider(loginFlags{
		config: *cfgPath, name: *name, issuer: *issuer, resource: *resource, clientID: *clientID,
		driver: *driverName, scopes: *scopes, grant: *grant, port: *port, set: set,
	}, logger)
	if err != nil {
		return err
	}
	defer closeDrivers()
	d := p.Driver
	pref := login.GrantPreference(p.Grant)
	meta, err := d.Metadata(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Provider %s: driver %s, authorization server %s (metadata from %s)\n",
		p.Name, d.Describe().Name, meta.Issuer, orDefault(meta.Source, "built into the driver"))

	shownHosts := append(slices.Clone(p.VerificationHosts), d.Describe().VerificationHosts...)
	tty := isTerminal(stderr)
	l := &login.Login{
		Preference: pref,
		Logger:     logger,
		Device: login.DevicePoller{OnProgress: func(p login.DeviceProgress) {
			printProgress(stderr, tty, p)
		}},
		Loopback: login.Loopback{Port: p.LoopbackPort, RedirectHost: cmp.Or(p.LoopbackHost, d.Describe().LoopbackHost), Timeout: *timeout, Open: func(ctx context.Context, u string) error {
			if err := sdk.CheckShownURL(meta.Issuer, u, shownHosts); err != nil {
				return err
			}
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
			// Both URIs are checked like every URL a server shows (the
			// issuer's host or registrable domain, or a verification host):
			// verification_uri_complete is a link the user may just click.
			if err := sdk.CheckShownURL(meta.Issuer, da.VerificationURI, shownHosts); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "\nTo log in, open\n\n  %s\n\nand enter the code\n\n  %s\n\n", da.VerificationURI, da.UserCode)
			if da.VerificationURIComplete != "" {
				if err := sdk.CheckShownURL(meta.Issuer, da.VerificationURIComplete, shownHosts); err != nil {
					fmt.Fprintf(stderr, "(the server also sent a direct link, not shown: %v)\n\n", err)
				} else {
					fmt.Fprintf(stderr, "(or open %s)\n\n", da.VerificationURIComplete)
				}
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
	tok, err := l.Run(ctx, d, p.Scopes)
	if tty {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "\nLogged in.")
	var subject, who string
	if ider, ok := d.(provider.Identifier); !ok {
		fmt.Fprintln(stderr, "  user:    unknown (the driver cannot tell)")
	} else if id, err := ider.Identity(ctx, tok); err == nil {
		subject, who = id.Subject, cmp.Or(id.DisplayName, id.Subject)
		shown := id.Subject
		if id.DisplayName != "" && id.DisplayName != id.Subject {
			shown = fmt.Sprintf("%s (%s)", id.DisplayName, id.Subject)
		}
		fmt.Fprintf(stderr, "  user:    %s\n", shown)
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
	kind := cmp.Or(*storeKind, p.Store, config.StoreMemory)
	if kind == config.StoreMemory {
		fmt.Fprintln(stderr, "The token stays in this process's memory and is gone when it exits.")
		return nil
	}
	st, err := openStore(ctx, kind)
	if err != nil {
		return err
	}
	key := tokenstore.Key{Provider: p.Name, Issuer: meta.Issuer, ClientID: d.Describe().ClientID, Subject: subject}
	if err := st.Save(ctx, key, tok, who); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Kept in the %s store as provider %q: a server configured with it starts logged in ('mcpauth logout %s' revokes and removes it).\n", kind, p.Name, p.Name)
	return nil
}

// loginFlags are the login verb's provider flags; set names those given.
type loginFlags struct {
	config, name, issuer, resource, clientID, driver, scopes, grant string
	port                                                            int
	set                                                             map[string]bool
}

func loginUsageProblem(name, issuer, resource, clientID string) string {
	switch {
	case issuer != "" && resource != "":
		return "give --issuer or --resource, not both"
	case name == "" && issuer == "" && resource == "":
		return "give --provider NAME (from the config file), or --issuer URL or --resource URL"
	case name == "" && clientID == "":
		return "--client-id is required with --issuer or --resource"
	}
	return ""
}

// loginProvider resolves the provider to log in to the way a server does:
// the config file and MCPAUTH_* variables for --provider, the flags as the
// provider's description otherwise (or as overrides of the file's fields),
// then the registry picks and builds the driver (a built-in one runs as a
// plugin of this binary, an external one from its verified binary).
func loginProvider(fl loginFlags, logger *slog.Logger) (*registry.Provider, func(), error) {
	name := fl.name
	if name == "" {
		name = "login"
	}
	p := config.Provider{Name: name, Driver: fl.driver, Issuer: fl.issuer, Resource: fl.resource, ClientID: fl.clientID,
		Grant: fl.grant, LoopbackPort: fl.port}
	if fl.scopes != "" {
		p.Scopes = strings.FieldsFunc(fl.scopes, func(r rune) bool { return r == ' ' || r == ',' })
	}
	var f *config.File
	var err error
	opts := config.LoadOptions{Environ: os.Environ(), Drivers: registry.DriverNames(drivers.Builtin)}
	if fl.name == "" {
		if len(p.Scopes) == 0 {
			p.Scopes = []string{"openid"}
		}
		opts.Defaults = []config.Provider{p}
		f, err = config.LoadWith("", opts)
	} else {
		f, err = loadNamed(fl, p, opts)
	}
	if err != nil {
		return nil, nil, err
	}
	f.Providers = slices.DeleteFunc(f.Providers, func(c config.Provider) bool { return c.Name != name })
	reg, err := registry.Open(f, registry.Options{Drivers: drivers.Builtin, Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	rp, _ := reg.Provider(name)
	return rp, reg.Close, nil
}

// loadNamed loads the config file for --provider NAME, with the flags given
// overriding the file's fields.
func loadNamed(fl loginFlags, p config.Provider, opts config.LoadOptions) (*config.File, error) {
	path, _, err := config.Find(fl.config)
	if errors.Is(err, config.ErrNotFound) {
		path = "" // MCPAUTH_* variables alone may declare it
	} else if err != nil {
		return nil, err
	}
	f, err := config.LoadWith(path, opts)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(f.Providers, func(c config.Provider) bool { return c.Name == fl.name })
	if i < 0 {
		names := make([]string, len(f.Providers))
		for j, c := range f.Providers {
			names[j] = c.Name
		}
		where := "the environment"
		if path != "" {
			where = path
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("no provider %q: %s configures none", fl.name, where)
		}
		return nil, fmt.Errorf("no provider %q in %s (providers: %s)", fl.name, where, strings.Join(names, ", "))
	}
	c := &f.Providers[i]
	for flagName, apply := range map[string]func(){
		"driver": func() { c.Driver = p.Driver }, "issuer": func() { c.Issuer, c.Resource = p.Issuer, "" },
		"resource": func() { c.Resource, c.Issuer = p.Resource, "" }, "client-id": func() { c.ClientID = p.ClientID },
		"scopes": func() { c.Scopes = p.Scopes }, "grant": func() { c.Grant = p.Grant }, "port": func() { c.LoopbackPort = p.LoopbackPort },
	} {
		if fl.set[flagName] {
			apply()
		}
	}
	return f, nil
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
