package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/registry"
)

const configUsage = `Usage: mcpauth config <command> [flags]

Commands:
  validate   check the config file and the MCPAUTH_* environment as a server reads them
  init       write a commented example config file

The file is --config FILE, else $MCPAUTH_CONFIG, else mcpauth/config.yaml in the
user config directory. Reference: docs/config.md.
`

func runConfig(ctx context.Context, args []string, stderr io.Writer) error {
	return configCommand(ctx, args, os.Stdout, stderr, os.Environ())
}

func configCommand(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage)
		return errUsage
	}
	switch args[0] {
	case "validate":
		return configValidate(args[1:], stderr, environ)
	case "init":
		return configInit(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, configUsage)
		return nil
	}
	fmt.Fprintf(stderr, "mcpauth config: unknown command %q\n\n%s", args[0], configUsage)
	return errUsage
}

func configValidate(args []string, stderr io.Writer, environ []string) error {
	fs := newFlagSet("config validate", "config validate [--config FILE] [--start]\n\n"+
		"Checks the config file and the MCPAUTH_* environment variables as a server reads\n"+
		"them: every field, each driver's options, and each plugin binary against its\n"+
		"sha256; with --start, starts every driver plugin too. Exit status 0: valid; 1: not.", stderr)
	cfgPath := fs.String("config", "", "config file (default: $MCPAUTH_CONFIG, then the user config directory)")
	start := fs.Bool("start", false, "also start each driver that runs as a plugin, as a server's first login would")
	if err := parse(fs, args); err != nil {
		return err
	}
	path, source, err := findConfig(*cfgPath, environ)
	envOnly := errors.Is(err, config.ErrNotFound)
	switch {
	case envOnly && !providersFromEnv(environ):
		return fmt.Errorf("%w\n(create one with: mcpauth config init)", err)
	case envOnly:
		fmt.Fprintln(stderr, "No config file: the environment only.")
		path = ""
	case err != nil:
		return err
	default:
		fmt.Fprintf(stderr, "Config file %s (%s)\n", path, describeSource(source))
	}

	f, err := config.LoadWith(path, config.LoadOptions{Environ: environ, Drivers: registry.DriverNames(drivers.Builtin)})
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Fprintln(stderr, p)
		}
		return fmt.Errorf("%s", countProblems(len(ve.Problems)))
	}
	if err != nil {
		return err
	}

	if vars := overrides(environ); len(vars) > 0 {
		fmt.Fprintf(stderr, "Overridden by the environment: %s\n", strings.Join(vars, " "))
	}
	fmt.Fprintf(stderr, "mode %s, login_timeout %s, plugin_dir %s\n\n", f.Mode, f.LoginTimeout, dash(f.PluginDir))
	// Opening the registry checks what only the drivers know: driver names
	// against the catalogue and each driver's options.
	reg, err := registry.Open(f, registry.Options{Drivers: drivers.Builtin})
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, line)
		}
		return errors.New("not valid")
	}
	defer reg.Close()
	var bad []string
	tw := tabwriter.NewWriter(stderr, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tDRIVER\tISSUER OR RESOURCE\tCLIENT\tGRANT\tISOLATION\tPLUGIN")
	for i, p := range f.Providers {
		where, driver := p.Issuer, orDefault(p.Driver, "(resolved from the issuer)")
		if p.Issuer != "" {
			rd, _, _ := reg.Resolve(p.Driver, p.Issuer)
			driver = rd.Name
		} else {
			where = "resource " + p.Resource
		}
		client := p.ClientID
		if p.ClientIDMetadataDocument != "" {
			client = strings.TrimPrefix(client+" (CIMD "+p.ClientIDMetadataDocument+")", " ")
		}
		plugin, verified := "-", true
		if p.Plugin != nil {
			c := checkPlugin(f.PluginDir, p.Plugin)
			plugin, verified = c.Path+": "+c.Verdict, c.OK()
			if !verified {
				bad = append(bad, fmt.Sprintf("provider %q: plugin %s: %s", p.Name, c.Path, c.Detail))
			}
		}
		if pd, ok := reg.Providers()[i].Driver.(*registry.PluginDriver); ok && *start && verified {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := pd.Start(sctx); err != nil {
				bad = append(bad, fmt.Sprintf("provider %q: the driver did not start: %v", p.Name, err))
			} else if plugin == "-" {
				plugin = "started"
			} else {
				plugin += ", started"
			}
			cancel()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, driver, where, client, p.Grant, p.Isolation, plugin)
	}
	tw.Flush()
	if len(f.Providers) == 0 {
		fmt.Fprintln(stderr, "(no providers: a server could not obtain any token)")
	}
	fmt.Fprintln(stderr)
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintln(stderr, b)
		}
		return fmt.Errorf("%d plugin(s) would be refused or did not start", len(bad))
	}
	fmt.Fprintln(stderr, "Valid.")
	return nil
}

func countProblems(n int) string {
	if n == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}

// findConfig is config.Find with an explicit environment.
func findConfig(flagValue string, environ []string) (path, source string, err error) {
	if flagValue == "" {
		if p := lookupEnv(environ, "MCPAUTH_CONFIG"); p != "" {
			return p, config.SourceEnv, nil
		}
	}
	return config.Find(flagValue)
}

func describeSource(source string) string {
	switch source {
	case config.SourceFlag:
		return "from --config"
	case config.SourceEnv:
		return "from $MCPAUTH_CONFIG"
	}
	return "the default location"
}

func lookupEnv(environ []string, key string) string {
	for _, kv := range slices.Backward(environ) {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// providersFromEnv reports whether the environment configures providers.
func providersFromEnv(environ []string) bool {
	for _, kv := range environ {
		if strings.HasPrefix(kv, "MCPAUTH_PROVIDERS=") || strings.HasPrefix(kv, "MCPAUTH_PROVIDERS_") {
			return true
		}
	}
	return false
}

// overrides lists the MCPAUTH_* variables that config.Load applies.
func overrides(environ []string) []string {
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "MCPAUTH_MODE", k == "MCPAUTH_LOGIN_TIMEOUT", k == "MCPAUTH_PLUGIN_DIR", k == "MCPAUTH_PROVIDERS",
			strings.HasPrefix(k, "MCPAUTH_PROVIDERS_"):
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func configInit(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("config init", "config init [--config FILE] [--force] [--stdout]\n\n"+
		"Writes a commented example config file: to --config FILE, else $MCPAUTH_CONFIG,\n"+
		"else mcpauth/config.yaml in the user config directory.", stderr)
	cfgPath := flags.String("config", "", "where to write it")
	force := flags.Bool("force", false, "overwrite an existing file")
	toStdout := flags.Bool("stdout", false, "print the example on stdout instead of writing a file")
	if err := parse(flags, args); err != nil {
		return err
	}
	if *toStdout {
		if *cfgPath != "" || *force {
			fmt.Fprintln(stderr, "--stdout writes no file: drop --config and --force")
			flags.Usage()
			return errUsage
		}
		_, err := stdout.Write(config.Example)
		return err
	}
	path, _, err := config.Find(*cfgPath)
	if err != nil && !errors.Is(err, config.ErrNotFound) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	mode := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		mode = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	file, err := os.OpenFile(path, mode, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; use --force to overwrite it", path)
	}
	if err != nil {
		return err
	}
	if _, err := file.Write(config.Example); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Wrote an example config to %s.\nEdit it, then check it with: mcpauth config validate --config %s\n", path, path)
	return nil
}
