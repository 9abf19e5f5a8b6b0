package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
	"github.com/mcpauth/mcpauth/sdk"
	"github.com/mcpauth/mcpauth/tokenstore"
)

// storeTimeout bounds status and logout: keychain calls, revocations.
const storeTimeout = time.Minute

// loadForStore loads the config file (or the environment alone) the way a
// server would, for the store verbs.
func loadForStore(path string) (*config.File, error) {
	found, _, err := config.Find(path)
	if errors.Is(err, config.ErrNotFound) {
		found = ""
	} else if err != nil {
		return nil, err
	}
	return config.LoadWith(found, config.LoadOptions{Environ: os.Environ(), Drivers: registry.DriverNames(drivers.Builtin)})
}

// persistentStores are the store kinds f uses besides memory, in order.
func persistentStores(f *config.File) []string {
	kinds := []string{f.Store}
	for _, p := range f.Providers {
		kinds = append(kinds, p.Store)
	}
	slices.Sort(kinds)
	kinds = slices.Compact(kinds)
	return slices.DeleteFunc(kinds, func(k string) bool { return k == config.StoreMemory })
}

func openStore(ctx context.Context, kind string) (*tokenstore.Store, error) {
	b, err := sdk.OpenBackend(ctx, kind)
	if err != nil {
		return nil, err
	}
	return &tokenstore.Store{Backend: b, Logger: slog.New(slog.DiscardHandler)}, nil
}

func runStatus(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("status", "status [--config FILE]\n\n"+
		"Lists the logins kept in the token stores the configuration uses (store: keychain or\n"+
		"file): provider, account, issuer, scopes, expiry. Never a token. Logins kept in memory\n"+
		"(the default) live only in their server's process.", stderr)
	cfgPath := fs.String("config", "", "config file (default: $MCPAUTH_CONFIG, then the user config directory)")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	f, err := loadForStore(*cfgPath)
	if err != nil {
		return err
	}
	kinds := persistentStores(f)
	if len(kinds) == 0 {
		fmt.Fprintln(stderr, "No token store configured (store: memory): logins live only in their server's process.")
		return nil
	}
	var errs []error
	for _, kind := range kinds {
		st, err := openStore(ctx, kind)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		accts, err := st.Accounts(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(stderr, "store %s: %d login(s)\n", kind, len(accts))
		for _, a := range accts {
			fmt.Fprintf(stderr, "  %s: %s at %s, scopes %q, %s\n", a.Key.Provider, accountName(a), a.Key.Issuer,
				strings.Join(a.Scopes, " "), expiryText(a))
		}
	}
	return errors.Join(errs...)
}

func accountName(a tokenstore.Account) string {
	switch {
	case a.DisplayName != "" && a.DisplayName != a.Key.Subject && a.Key.Subject != "":
		return a.DisplayName + " (" + a.Key.Subject + ")"
	case a.DisplayName != "":
		return a.DisplayName
	case a.Key.Subject != "":
		return a.Key.Subject
	}
	return "an unidentified user"
}

func expiryText(a tokenstore.Account) string {
	s := "access token does not expire"
	if !a.Expiry.IsZero() {
		s = "access token valid until " + a.Expiry.Local().Format(time.RFC3339)
	}
	if a.Refreshable {
		s += ", renewed automatically"
	}
	return s
}

func runLogout(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("logout", "logout [PROVIDER] [--account NAME] [--all] [--config FILE]\n\n"+
		"Logs out of the logins kept in the configured token stores: each token is revoked at\n"+
		"its issuer (RFC 7009) where it offers revocation, then removed, so no server starts\n"+
		"logged in with it any more.", stderr)
	cfgPath := fs.String("config", "", "config file (default: $MCPAUTH_CONFIG, then the user config directory)")
	account := fs.String("account", "", "only this account (its name or subject, as status shows it)")
	all := fs.Bool("all", false, "every provider's logins")
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if (name == "") == !*all {
		fmt.Fprintln(stderr, "give a PROVIDER or --all")
		fs.Usage()
		return errUsage
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	f, err := loadForStore(*cfgPath)
	if err != nil {
		return err
	}
	if name != "" && !slices.ContainsFunc(f.Providers, func(p config.Provider) bool { return p.Name == name }) {
		names := make([]string, len(f.Providers))
		for i, p := range f.Providers {
			names[i] = p.Name
		}
		return fmt.Errorf("no provider %q is configured (providers: %s)", name, strings.Join(names, ", "))
	}
	reg, err := registry.Open(f, registry.Options{Drivers: drivers.Builtin, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer reg.Close()
	stores := map[string]*tokenstore.Store{}
	count := 0
	var errs []error
	for _, p := range reg.Providers() {
		if (name != "" && p.Name != name) || p.Store == config.StoreMemory {
			continue
		}
		st := stores[p.Store]
		if st == nil {
			if st, err = openStore(ctx, p.Store); err != nil {
				errs = append(errs, err)
				continue
			}
			stores[p.Store] = st
		}
		accts, err := st.Accounts(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, a := range accts {
			if a.Key.Provider != p.Name || (*account != "" && a.DisplayName != *account && a.Key.Subject != *account) {
				continue
			}
			fmt.Fprintf(stderr, "%s: %s: %s\n", p.Name, accountName(a), revokeStored(ctx, p, st, a.Key))
			if err := st.Remove(ctx, a.Key); err != nil {
				errs = append(errs, err)
				continue
			}
			count++
		}
	}
	if count == 0 && len(errs) == 0 {
		fmt.Fprintln(stderr, "No stored login matched; nothing to log out.")
	}
	return errors.Join(errs...)
}

// revokeStored revokes the stored token of k at its issuer and says what
// happened (never the token). The token goes only to the issuer and client
// that issued it.
func revokeStored(ctx context.Context, p *registry.Provider, st *tokenstore.Store, k tokenstore.Key) string {
	rv, ok := p.Driver.(provider.Revoker)
	if !ok {
		return "the driver cannot revoke tokens; removed from the store only"
	}
	meta, err := p.Driver.Metadata(ctx)
	if err != nil {
		return fmt.Sprintf("the issuer's metadata could not be read (%v); removed from the store only", err)
	}
	if meta.Issuer != k.Issuer || p.Driver.Describe().ClientID != k.ClientID {
		return "stored for another issuer or client than the one configured now; removed from the store only"
	}
	rec, err := st.Backend.Load(ctx, k)
	if err != nil {
		return fmt.Sprintf("the stored login could not be read (%v); removed", err)
	}
	switch err := rv.Revoke(ctx, rec.Token()); {
	case err == nil:
		return "revoked at the issuer and removed"
	case errors.Is(err, provider.ErrRevocationUnsupported):
		return "the issuer offers no token revocation; removed from the store only (the token stays valid at the issuer until it expires)"
	default:
		return fmt.Sprintf("the issuer did not revoke it (%v); removed from the store", err)
	}
}
