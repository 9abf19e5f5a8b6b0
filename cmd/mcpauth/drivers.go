package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
)

// driverRow is one line of `mcpauth drivers`.
type driverRow struct {
	Provider  string   `json:"provider,omitempty"`
	Driver    string   `json:"driver"`
	Version   string   `json:"version,omitempty"`
	Grants    []string `json:"grants,omitempty"`
	Isolation string   `json:"isolation,omitempty"`
	Plugin    string   `json:"plugin,omitempty"`
	Verifies  string   `json:"verifies,omitempty"`
	Reason    string   `json:"reason,omitempty"`
}

func runDrivers(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("drivers", "drivers [--config FILE] [--start] [--json]", stderr)
	cfgPath := fs.String("config", "", "config file (default: $MCPAUTH_CONFIG, then the user config directory)")
	start := fs.Bool("start", false, "start each configured plugin to show its version and grants")
	asJSON := fs.Bool("json", false, "print JSON on stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	var rows []driverRow
	for _, reg := range drivers.Builtin {
		d, err := reg.New(ctx, provider.DriverConfig{Issuer: "https://issuer.invalid", ClientID: "-",
			Discover: func(context.Context, string) (*provider.AuthServerMetadata, error) {
				return nil, errors.New("not used")
			}})
		if err != nil {
			// A driver that wants a particular issuer shape (Entra's tenant
			// path) cannot be described without one: list its claim only.
			rows = append(rows, driverRow{Driver: reg.Name, Reason: orDefault(reg.Claim, "built-in")})
			continue
		}
		desc := d.Describe()
		rows = append(rows, driverRow{Driver: desc.Name, Version: desc.Version, Grants: grantNames(desc.Grants), Reason: orDefault(reg.Claim, "built-in")})
	}
	var failures []string

	path, source, err := config.Find(*cfgPath)
	switch {
	case errors.Is(err, config.ErrNotFound):
		fmt.Fprintf(stderr, "(no config file: %v)\n", err)
	case err != nil:
		return err
	default:
		f, err := config.LoadWith(path, config.LoadOptions{Environ: os.Environ(), Drivers: registry.DriverNames(drivers.Builtin)})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "config: %s (from %s)\n", path, source)
		configured, failed, err := configuredRows(ctx, f, *start)
		if err != nil {
			return err
		}
		rows = append(rows, configured...)
		failures = failed
	}
	defer func() {
		for _, f := range failures {
			fmt.Fprintln(stderr, f)
		}
	}()
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
		if len(failures) > 0 {
			return fmt.Errorf("%d plugin(s) failed", len(failures))
		}
		return nil
	}
	tw := tabwriter.NewWriter(stderr, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tDRIVER\tVERSION\tGRANTS\tISOLATION\tPLUGIN\tVERIFIES\tWHY")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dash(r.Provider), r.Driver, dash(r.Version),
			dash(strings.Join(r.Grants, ",")), dash(r.Isolation), dash(r.Plugin), dash(r.Verifies), r.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d plugin(s) failed", len(failures))
	}
	return nil
}

// configuredRows describes each configured provider's driver; failed lists,
// one line each, the plugins that would be refused or did not start.
func configuredRows(ctx context.Context, f *config.File, start bool) (rows []driverRow, failed []string, err error) {
	reg, err := registry.Open(f, registry.Options{Drivers: drivers.Builtin})
	if err != nil {
		return nil, nil, err
	}
	defer reg.Close()
	for i, p := range f.Providers {
		row := driverRow{Provider: p.Name, Isolation: p.Isolation}
		switch {
		case p.Issuer == "":
			row.Driver, row.Reason = orDefault(p.Driver, "(resolved at first login)"), "resource "+p.Resource+": issuer known after RFC 9728 discovery"
		default:
			rd, reason, _ := reg.Resolve(p.Driver, p.Issuer) // Open resolved it already
			row.Driver, row.Reason = rd.Name, reason
		}
		var check pluginCheck
		if p.Plugin != nil {
			row.Isolation = "plugin"
			check = checkPlugin(f.PluginDir, p.Plugin)
			row.Plugin, row.Verifies = check.Path, check.Verdict
			if !check.OK() {
				failed = append(failed, fmt.Sprintf("provider %q: plugin %s: %s", p.Name, check.Path, check.Detail))
			}
		}
		if pd, ok := reg.Providers()[i].Driver.(*registry.PluginDriver); ok && start && (p.Plugin == nil || check.OK()) {
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := pd.Start(sctx)
			cancel()
			if err != nil {
				row.Reason += "; start failed: " + err.Error()
				failed = append(failed, fmt.Sprintf("provider %q: the driver did not start: %v", p.Name, err))
			} else {
				desc := pd.Describe()
				row.Version, row.Grants = desc.Version, grantNames(desc.Grants)
			}
		}
		rows = append(rows, row)
	}
	return rows, failed, nil
}

// pluginCheck is what checking a configured plugin binary found.
type pluginCheck struct {
	Path    string // the binary, symlinks resolved
	Verdict string // ok, MISMATCH, REFUSED, UNREADABLE
	Detail  string // what to do about it
}

func (c pluginCheck) OK() bool { return c.Verdict == "ok" }

// checkPlugin confines the plugin to its directory and compares its
// checksum; a mismatch shows both digests and the command that computes
// the right one.
func checkPlugin(dir string, p *config.Plugin) pluginCheck {
	real, err := p.Resolve(dir)
	if err != nil {
		return pluginCheck{p.Path, "REFUSED", err.Error()}
	}
	sum, err := registry.FileSHA256(real)
	if err != nil {
		return pluginCheck{real, "UNREADABLE", err.Error()}
	}
	if sum != strings.ToLower(p.SHA256) {
		return pluginCheck{real, "MISMATCH", fmt.Sprintf("sha256 mismatch: the config expects %s, the binary is %s; "+
			"if you trust this binary, put the output of `mcpauth plugin hash %s` in plugin.sha256", strings.ToLower(p.SHA256), sum, real)}
	}
	return pluginCheck{real, "ok", ""}
}

func grantNames(gs []provider.Grant) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = string(g)
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
