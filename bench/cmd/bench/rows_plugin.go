package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
)

var benchMeta = &provider.AuthServerMetadata{Issuer: "https://as.example", AuthorizationEndpoint: "https://as.example/authorize",
	TokenEndpoint: "https://as.example/token"}

// pluginRows: plugin cold starts (fork, exec, handshake, mTLS,
// Capabilities, Configure; the verified copy reused) as p50 and p99 over
// o.pluginRuns starts, a first start (copy and sha256), and the per-call
// overhead of a driver as a plugin against the same driver in process.
func pluginRows(ctx context.Context, b binaries, o options) ([]row, error) {
	cfg := provider.DriverConfig{Issuer: benchMeta.Issuer, ClientID: "bench", Metadata: benchMeta}
	builtin, err := spec("builtin", b.server, cfg, driverplugin.BuiltinDriverEnv+"=oidc")
	if err != nil {
		return nil, err
	}
	corpCfg := cfg
	corpCfg.Options = map[string]string{"tenant": "bench"}
	external, err := spec("corp", b.plugin, corpCfg)
	if err != nil {
		return nil, err
	}
	tiny, err := spec("tiny", b.pluginTiny, cfg)
	if err != nil {
		return nil, err
	}
	plugins := []struct {
		name string
		spec registry.PluginSpec
	}{{"built-in oidc, re-executed testserver", builtin}}
	if b.githubGo != "" { // a host without mcp-go's package initialisation
		goHost, err := spec("builtin", b.githubGo, cfg, driverplugin.BuiltinDriverEnv+"=oidc")
		if err != nil {
			return nil, err
		}
		plugins = append(plugins, struct {
			name string
			spec registry.PluginSpec
		}{"built-in oidc, re-executed examples/github-gosdk", goHost})
	}
	plugins = append(plugins, []struct {
		name string
		spec registry.PluginSpec
	}{{"external corpidp-driver", external}, {"tiny sdk/driver plugin", tiny}}...)
	var rows []row
	for _, p := range plugins {
		first := row{figure: "plugin first start, copy + sha256 (" + p.name + ")", unit: "ms"}
		p50 := row{figure: fmt.Sprintf("plugin cold start p50 of %d (%s)", o.pluginRuns, p.name), unit: "ms", goal: "< 50 ms", met: below(50)}
		p99 := row{figure: fmt.Sprintf("plugin cold start p99 of %d (%s)", o.pluginRuns, p.name), unit: "ms", goal: "< 50 ms", met: below(50)}
		for range o.runs {
			if err := forgetCopies(); err != nil {
				return rows, err
			}
			d, err := startPlugin(ctx, p.spec)
			if err != nil {
				return rows, fmt.Errorf("%s: %w", p.name, err)
			}
			first.ours = append(first.ours, ms(d))
			var ds []time.Duration
			for range o.pluginRuns {
				d, err := startPlugin(ctx, p.spec)
				if err != nil {
					return rows, fmt.Errorf("%s: %w", p.name, err)
				}
				ds = append(ds, d)
			}
			p50.ours, p99.ours = append(p50.ours, ms(percentile(ds, 50))), append(p99.ours, ms(percentile(ds, 99)))
		}
		rows = append(rows, first, p50, p99)
	}

	call, overhead, err := pluginCall(ctx, builtin, cfg, o)
	if err != nil {
		return rows, err
	}
	return append(rows, call, overhead), nil
}

func spec(name, path string, cfg provider.DriverConfig, env ...string) (registry.PluginSpec, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return registry.PluginSpec{}, err
	}
	sum, err := registry.FileSHA256(path)
	if err != nil {
		return registry.PluginSpec{}, err
	}
	raw, _ := hex.DecodeString(sum)
	return registry.PluginSpec{Provider: name, Path: path, SHA256: raw, ExtraEnv: env, Config: cfg, Logger: quietLogger()}, nil
}

// forgetCopies empties this run's plugin cache, so the next start copies
// and hashes the plugin.
func forgetCopies() error {
	dir := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "mcpauth", "plugins")
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func quietLogger() hclog.Logger { return hclog.NewNullLogger() }

func startPlugin(ctx context.Context, s registry.PluginSpec) (time.Duration, error) {
	p := registry.OpenPlugin(s)
	defer p.Close()
	t0 := time.Now()
	err := p.Start(ctx)
	return time.Since(t0), err
}

// pluginCall times AuthCodeURL (pure computation in the driver, so the
// difference is the round trip), in process and as a plugin, interleaved.
func pluginCall(ctx context.Context, s registry.PluginSpec, cfg provider.DriverConfig, o options) (row, row, error) {
	call := row{figure: "driver call (AuthCodeURL): plugin vs in-process, mean", unit: "µs"}
	overhead := row{figure: "plugin RPC overhead (plugin − in-process), mean", unit: "µs", goal: "< 200 µs", met: below(200)}
	inproc, err := oidc.New(oidc.Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, Metadata: cfg.Metadata})
	if err != nil {
		return call, overhead, err
	}
	p := registry.OpenPlugin(s)
	defer p.Close()
	if err := p.Start(ctx); err != nil {
		return call, overhead, err
	}
	req := provider.AuthCodeRequest{State: "s", CodeChallenge: "c", RedirectURI: "http://127.0.0.1:1/callback", Scopes: []string{"openid"}}
	one := func(d provider.CodeExchanger) (time.Duration, error) {
		t0 := time.Now()
		_, err := d.AuthCodeURL(ctx, req)
		return time.Since(t0), err
	}
	const calls = 2000
	for range 200 { // warm-up
		_, err1 := one(inproc)
		_, err2 := one(p)
		if err1 != nil || err2 != nil {
			return call, overhead, fmt.Errorf("AuthCodeURL: %v, %v", err1, err2)
		}
	}
	for range o.runs {
		var ti, tp []time.Duration
		for range calls {
			di, err1 := one(inproc)
			dp, err2 := one(p)
			if err1 != nil || err2 != nil {
				return call, overhead, fmt.Errorf("AuthCodeURL: %v, %v", err1, err2)
			}
			ti, tp = append(ti, di), append(tp, dp)
		}
		call.ours, call.base = append(call.ours, us(mean(tp))), append(call.base, us(mean(ti)))
		overhead.ours = append(overhead.ours, us(mean(tp)-mean(ti)))
	}
	return call, overhead, nil
}
