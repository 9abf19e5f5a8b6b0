// Command server is an example stdio MCP server whose tools call APIs with
// OAuth tokens obtained at run time through mcpauth. It is configured from
// the user's config file (the registry: built-in drivers, driver plugins),
// or from flags and environment variables for the generic driver:
//
//	server -config ~/.config/mcpauth/config.yaml
//	server -issuer https://login.example.com -client-id my-app -scopes "openid offline_access"
//	server -provider 'name=corp;issuer=https://idp.corp.example;client_id=mcp;scopes=openid email;api=https://api.corp.example/v1'
//
// Each provider NAME gets the tools NAME_whoami (the user's subject from the
// userinfo endpoint) and NAME_call_api (a request to the provider's api URL,
// if set); the first provider also protects ping. hello needs no login.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// providerSpec is one -provider flag, or the single-provider flags.
type providerSpec struct {
	name, issuer, clientID, grant, api string
	scopes                             []string
}

type specList []providerSpec

func (l *specList) String() string { return fmt.Sprint(len(*l), " providers") }

func (l *specList) Set(v string) error {
	var s providerSpec
	for _, kv := range strings.Split(v, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "name":
			s.name = val
		case "issuer":
			s.issuer = val
		case "client_id":
			s.clientID = val
		case "scopes":
			s.scopes = oidc.ParseScopes(val)
		case "grant":
			s.grant = val
		case "api":
			s.api = val
		case "":
		default:
			return fmt.Errorf("unknown key %q (want name, issuer, client_id, scopes, grant, api)", k)
		}
	}
	if s.name == "" || s.issuer == "" || s.clientID == "" {
		return errors.New("name, issuer and client_id are required")
	}
	*l = append(*l, s)
	return nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run() error {
	var specs specList
	flag.Var(&specs, "provider", "a provider: 'name=N;issuer=URL;client_id=ID;scopes=a b;grant=auto|device|pkce;api=URL' (repeatable)")
	name := flag.String("name", env("MCPAUTH_NAME", "corp"), "provider name, with -issuer")
	issuer := flag.String("issuer", os.Getenv("MCPAUTH_ISSUER"), "issuer URL of the authorization server (single provider)")
	clientID := flag.String("client-id", os.Getenv("MCPAUTH_CLIENT_ID"), "OAuth client ID (single provider)")
	scopes := flag.String("scopes", env("MCPAUTH_SCOPES", "openid offline_access"), "scopes every login asks for (single provider)")
	grant := flag.String("grant", env("MCPAUTH_GRANT", "auto"), "grant: auto, device or pkce (single provider)")
	api := flag.String("api", os.Getenv("MCPAUTH_API"), "API base URL for NAME_call_api (single provider)")
	configPath := flag.String("config", "", "config file (providers, drivers, plugins); -api applies to its first provider")
	modeFlag := flag.String("mode", env("MCPAUTH_MODE", "lazy"), "lazy or explicit")
	wait := flag.Duration("wait", 5*time.Minute, "how long a tool call waits for a login")
	logFile := flag.String("log-file", "", "also write logs to this file")
	verbose := flag.Bool("v", false, "debug logs")
	flag.Parse()

	if *issuer != "" {
		specs = append(specs, providerSpec{name: *name, issuer: *issuer, clientID: *clientID, scopes: oidc.ParseScopes(*scopes), grant: *grant, api: *api})
	}
	switch {
	case len(specs) == 0 && *configPath == "":
		return errors.New("no provider: give -config, -issuer and -client-id, or -provider")
	case len(specs) > 0 && *configPath != "":
		return errors.New("give -config or -issuer/-provider, not both")
	}
	mode, err := sdk.ParseMode(*modeFlag)
	if err != nil {
		return err
	}
	var logOut io.Writer = os.Stderr
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		logOut = io.MultiWriter(os.Stderr, f)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The flags declare providers as a server author would in code; a
	// -config file (and MCPAUTH_PROVIDERS_* variables) override or add to them.
	// The flag-declared drivers run in process, as they always did here.
	var defaults []config.Provider
	for _, sp := range specs {
		defaults = append(defaults, config.Provider{Name: sp.name, Issuer: sp.issuer, ClientID: sp.clientID, Scopes: sp.scopes,
			Grant: sp.grant, Isolation: config.IsolationInProcess})
	}
	cfgFile := *configPath
	if cfgFile == "" {
		cfgFile = os.DevNull // flags only: no user config file
	}
	auth, err := sdk.New(ctx, sdk.Options{Providers: defaults, ConfigFile: cfgFile, Mode: mode, ServerName: "the example server", WaitTimeout: *wait, Logger: logger})
	if err != nil {
		return err
	}
	drivers := map[string]provider.Driver{}
	if *configPath != "" {
		specs = specs[:0]
		for i, p := range auth.Providers() {
			sp := providerSpec{name: p.Name}
			if i == 0 {
				sp.api = *api
			}
			specs = append(specs, sp)
		}
	}
	for _, p := range auth.Providers() {
		drivers[p.Name] = p.Driver
	}

	s := server.NewMCPServer("mcpauth-example", "0.1.0", server.WithToolCapabilities(true))
	s.AddTool(mcp.NewTool("hello", mcp.WithDescription("Says hello; needs no login.")),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText("hello"), nil
		})
	auth.Protect(s, mcp.NewTool("ping", mcp.WithDescription("Answers pong once logged in to "+specs[0].name+".")),
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if _, err := sdk.Token(ctx, specs[0].name); err != nil {
				return nil, err
			}
			return mcp.NewToolResultText("pong"), nil
		}, sdk.Need(specs[0].name))
	for _, sp := range specs {
		auth.Protect(s, mcp.NewTool(sp.name+"_whoami", mcp.WithDescription("Who you are at "+sp.name+", from its userinfo endpoint.")),
			whoami(sp.name, drivers[sp.name]), sdk.Need(sp.name))
		if sp.api != "" {
			auth.Protect(s, mcp.NewTool(sp.name+"_call_api",
				mcp.WithDescription("Calls the "+sp.name+" API and returns its status and body."),
				mcp.WithString("method", mcp.Description("GET (default) or POST")),
				mcp.WithString("path", mcp.Description("path below the API URL")),
				mcp.WithString("body", mcp.Description("request body for POST")),
			), callAPI(sp.name, sp.api), sdk.Need(sp.name))
		}
	}
	return auth.ServeStdio(ctx, s)
}

// whoami asks the provider's userinfo endpoint who the token belongs to.
func whoami(name string, d provider.Driver) server.ToolHandlerFunc {
	return func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		meta, err := d.Metadata(ctx)
		if err != nil {
			return nil, err
		}
		if meta.UserinfoEndpoint == "" {
			return mcp.NewToolResultError(name + " has no userinfo endpoint"), nil
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, meta.UserinfoEndpoint, nil)
		if err != nil {
			return nil, err
		}
		resp, err := sdk.HTTPClient(ctx, name).Do(req)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		defer resp.Body.Close()
		var claims struct {
			Sub string `json:"sub"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&claims); err != nil || resp.StatusCode != http.StatusOK {
			return mcp.NewToolResultErrorf("userinfo answered %d", resp.StatusCode), nil
		}
		return mcp.NewToolResultText("subject: " + claims.Sub), nil
	}
}

// callAPI makes one request to the provider's API with its token.
func callAPI(name, base string) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		method := strings.ToUpper(req.GetString("method", http.MethodGet))
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader(req.GetString("body", ""))
		}
		r, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+"/"+strings.TrimPrefix(req.GetString("path", ""), "/"), body)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		resp, err := sdk.HTTPClient(ctx, name).Do(r)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		res := mcp.NewToolResultText(fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b))))
		res.IsError = resp.StatusCode >= 400
		return res, nil
	}
}
