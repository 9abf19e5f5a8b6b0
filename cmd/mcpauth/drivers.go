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
	for _, name := range registry.Builtins() {
		f, _ := registry.BuiltinFactory(name)
		d, err := f(ctx, provider.DriverConfig{Issuer: "https://issuer.invalid", ClientID: "-",
			Discover: func(context.Context, string) (*provider.AuthServerMetadata, error) {
				return nil, errors.New("not used")
			}})
		if err != nil {
			return fmt.Errorf("built-in driver %s: %w", name, err)
		}
		desc := d.Describe()
		rows = append(rows, driverRow{Driver: desc.Name, Version: desc.Version, Grants: grantNames(desc.Grants), Reason: "built-in"})
	}

	path, source, err := config.Find(*cfgPath)
	switch {
	case errors.Is(err, config.ErrNotFound):
		fmt.Fprintf(stderr, "(no config file: %v)\n", err)
	case err != nil:
		return err
	default:
		f, err := config.Load(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "config: %s (from %s)\n", path, source)
		configured, err := configuredRows(ctx, f, *start)
		if err != nil {
			return err
		}
		rows = append(rows, configured...)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(stderr, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tDRIVER\tVERSION\tGRANTS\tISOLATION\tPLUGIN\tVERIFIES\tWHY")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dash(r.Provider), r.Driver, dash(r.Version),
			dash(strings.Join(r.Grants, ",")), dash(r.Isolation), dash(r.Plugin), dash(r.Verifies), r.Reason)
	}
	return tw.Flush()
}

func configuredRows(ctx context.Context, f *config.File, start bool) ([]driverRow, error) {
	reg, err := registry.Open(f, registry.Options{})
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	var rows []driverRow
	for i, p := range f.Providers {
		row := driverRow{Provider: p.Name, Isolation: p.Isolation}
		switch {
		case p.Issuer == "":
			row.Driver, row.Reason = orDefault(p.Driver, "(resolved at first login)"), "resource "+p.Resource+": issuer known after RFC 9728 discovery"
		default:
			row.Driver, row.Reason = registry.ResolveDriver(p.Driver, p.Issuer, p.Options)
		}
		if p.Plugin != nil {
			row.Isolation = "plugin"
			row.Plugin, row.Verifies = verifyPlugin(f.PluginDir, p.Plugin)
		}
		if pd, ok := reg.Providers()[i].Driver.(*registry.PluginDriver); ok && start && row.Verifies != "MISMATCH" {
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := pd.Start(sctx)
			cancel()
			if err != nil {
				row.Reason += "; start failed: " + err.Error()
			} else {
				desc := pd.Describe()
				row.Version, row.Grants = desc.Version, grantNames(desc.Grants)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func verifyPlugin(dir string, p *config.Plugin) (path, verdict string) {
	real, err := p.Resolve(dir)
	if err != nil {
		return p.Path, "REFUSED: " + err.Error()
	}
	sum, err := registry.FileSHA256(real)
	if err != nil {
		return real, "UNREADABLE: " + err.Error()
	}
	if sum != strings.ToLower(p.SHA256) {
		return real, "MISMATCH"
	}
	return real, "ok"
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
