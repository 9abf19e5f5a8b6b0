package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mcpauth/mcpauth/drivers/gitlab"
	"github.com/mcpauth/mcpauth/registry"
	"github.com/mcpauth/mcpauth/sdk"
	"github.com/mcpauth/mcpauth/wrap"
)

const wrapSynopsis = "wrap [--config FILE] --provider NAME --env VAR [--env-format 'Bearer {token}'] [--mode lazy|explicit] -- COMMAND [ARGS...]\n\n" +
	"Runs COMMAND, an MCP server that reads a personal access token from the variable VAR,\n" +
	"behind a stdio proxy that logs in to the provider NAME (from the config file) through\n" +
	"the MCP client and starts COMMAND with the OAuth token in VAR, restarting it when the\n" +
	"token changes. Put it in the host's config in place of the server's command. The\n" +
	"token goes only into COMMAND's environment. See docs/wrap.md."

// gitlabAPIURLVar is the variable server-gitlab reads its API root from.
const gitlabAPIURLVar = "GITLAB_API_URL"

// wrapArgs are wrap's flags and the command after --.
type wrapArgs struct {
	config, provider, env, format string
	mode                          sdk.Mode
	verbose                       bool
	command                       []string
}

// parseWrapArgs reads wrap's command line; a usage error is printed to
// stderr and returned as errUsage.
func parseWrapArgs(args []string, stderr io.Writer) (*wrapArgs, error) {
	fs := newFlagSet("wrap", wrapSynopsis, stderr)
	w := &wrapArgs{}
	fs.StringVar(&w.config, "config", "", "config file (default: $MCPAUTH_CONFIG, then the user config directory)")
	fs.StringVar(&w.provider, "provider", "", "the provider to log in to, by its name in the config file")
	fs.StringVar(&w.env, "env", "", "the variable the wrapped server reads its token from, e.g. GITLAB_PERSONAL_ACCESS_TOKEN")
	fs.StringVar(&w.format, "env-format", "{token}", "the variable's value; {token} stands for the token")
	mode := fs.String("mode", "", "lazy (log in at the first tool call) or explicit (auth_login first); default: the config file's, else lazy")
	fs.BoolVar(&w.verbose, "v", false, "verbose logs")
	sep := slices.Index(args, "--")
	if sep < 0 {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		fmt.Fprintln(stderr, "no command to wrap: put the server's command after --, e.g. -- npx -y @modelcontextprotocol/server-gitlab")
		fs.Usage()
		return nil, errUsage
	}
	if err := parse(fs, args[:sep]); err != nil {
		return nil, err
	}
	w.command = args[sep+1:]
	m, problem := wrapUsageProblem(w.command, w.provider, w.env, w.format, *mode)
	if problem != "" {
		fmt.Fprintln(stderr, problem)
		fs.Usage()
		return nil, errUsage
	}
	w.mode = m
	return w, nil
}

func runWrap(ctx context.Context, args []string, stderr io.Writer) error {
	w, err := parseWrapArgs(args, stderr)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if w.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	auth, err := sdk.New(ctx, sdk.Options{ConfigFile: w.config, Mode: w.mode, Logger: logger, ServerName: "the wrapped " + serverName(w.command) + " server"})
	if err != nil {
		return err
	}
	defer auth.Close()
	var names []string
	for _, p := range auth.Providers() {
		names = append(names, p.Name)
	}
	if !slices.Contains(names, w.provider) {
		fmt.Fprintf(stderr, "--provider %q: no such provider in the configuration; configured: %s\n", w.provider, strings.Join(names, ", "))
		return errUsage
	}
	gate, err := wrap.NewGate(auth, sdk.Need(w.provider))
	if err != nil {
		return err
	}
	environ := os.Environ()
	if api := gitlabAPIURL(auth.Providers(), w.provider); api != "" && !hasEnv(environ, gitlabAPIURLVar) {
		// server-gitlab defaults to gitlab.com: point it at the instance
		// the token is for.
		environ = append(environ, gitlabAPIURLVar+"="+api)
		logger.Info("mcpauth wrap: "+gitlabAPIURLVar+" set for the wrapped server", "value", api)
	}
	p, err := wrap.New(wrap.Config{
		Command: w.command, Env: w.env, EnvFormat: w.format, Gate: gate, Logger: logger,
		Environ: environ, ServerName: "mcpauth-wrap", ServerVersion: currentVersion(),
	})
	if err != nil {
		return err
	}
	in, out, err := auth.Stdio()
	if err != nil {
		return err
	}
	return p.Serve(ctx, in, out)
}

// serverName names the wrapped server in messages to the user: the
// package a launcher runs (npx -y @modelcontextprotocol/server-gitlab →
// server-gitlab), else the program.
func serverName(command []string) string {
	name := filepath.Base(command[0])
	switch name {
	case "npx", "node", "bunx", "deno", "uvx", "python", "python3", "docker":
		for i := len(command) - 1; i > 0; i-- {
			if a := command[i]; !strings.HasPrefix(a, "-") {
				return strings.TrimSuffix(filepath.Base(a), filepath.Ext(a))
			}
		}
	}
	return name
}

// wrapUsageProblem checks wrap's flags; the problem names the flag.
func wrapUsageProblem(command []string, name, envName, format, mode string) (sdk.Mode, string) {
	m, modeErr := sdk.ParseMode(mode)
	switch {
	case len(command) == 0 || command[0] == "":
		return m, "no command to wrap after --"
	case name == "":
		return m, "--provider is required: the provider to log in to, by its name in the config file"
	case envName == "":
		return m, "--env is required: the variable the wrapped server reads its token from"
	case modeErr != nil:
		return m, "--mode: " + strings.TrimPrefix(modeErr.Error(), "mcpauth: ")
	}
	if err := wrap.CheckEnvName(envName); err != nil {
		return m, "--env: " + strings.TrimPrefix(err.Error(), "wrap: ")
	}
	if err := wrap.CheckEnvFormat(format); err != nil {
		return m, "--env-format: " + strings.TrimPrefix(err.Error(), "wrap: ")
	}
	return m, ""
}

// gitlabAPIURL is the REST API root of the provider name when its driver
// is GitLab's, else "".
func gitlabAPIURL(providers []*registry.Provider, name string) string {
	for _, p := range providers {
		if p.Name != name {
			continue
		}
		if d, ok := p.Driver.(interface{ APIURL() string }); ok {
			return d.APIURL()
		}
		if p.Provider.Driver == gitlab.Name || gitlab.Claims(p.Issuer) {
			// The driver runs in a subprocess by default: ask a local one,
			// configured the same way.
			if d, err := gitlab.New(gitlab.Config{Issuer: p.Issuer, ClientID: p.ClientID, APIURL: p.Options["api_url"]}); err == nil {
				return d.APIURL()
			}
		}
	}
	return ""
}

func hasEnv(environ []string, name string) bool {
	return slices.ContainsFunc(environ, func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
}
