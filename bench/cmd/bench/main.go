// Command bench measures mcpauth against its baselines and prints one
// table: each figure with mcpauth's value, the baseline's, their ratio, the
// goal and whether it is met, as min/median/max over the runs. A goal is
// judged on the median. scripts/bench builds the binaries it drives (the
// test server, bare mcp-go and go-sdk servers, an external driver plugin)
// and runs it; every server is driven as a subprocess over real stdio by
// mcp-go's client, against a real OP (zitadel/oidc, in this process).
//
//	scripts/bench            # or: go run ./bench/cmd/bench -bin DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// binaries are the programs scripts/bench built, by role.
type binaries struct {
	server     string // internal/testserver (-sdk mcp-go | go-sdk)
	bareMCPGo  string // bench/bareserver/mcpgo
	bareGoSDK  string // bench/bareserver/gosdk
	plugin     string // examples/corpidp/cmd/corpidp-driver
	pluginTiny string // bench/plugin/tiny
	pluginBare string // bench/plugin/bare
	github     string // examples/github
	githubGo   string // examples/github-gosdk ("" when absent)
}

type options struct {
	runs       int
	calls      int // protected calls per run
	rssCalls   int
	starts     int // process starts per run (start-up)
	pluginRuns int // plugin starts per run
	concurrent int
	interval   time.Duration
}

func main() {
	dir := flag.String("bin", "", "directory with the binaries scripts/bench builds")
	var o options
	flag.IntVar(&o.runs, "runs", 3, "runs of each benchmark")
	flag.IntVar(&o.calls, "calls", 3000, "protected tool calls per run, per server")
	flag.IntVar(&o.rssCalls, "rss-calls", 10000, "calls before the second RSS reading")
	flag.IntVar(&o.starts, "starts", 10, "process starts per run (start-up)")
	flag.IntVar(&o.pluginRuns, "plugin-starts", 30, "plugin starts per run (cold start)")
	flag.IntVar(&o.concurrent, "concurrent", 1000, "concurrent calls (single-flight figures)")
	flag.DurationVar(&o.interval, "interval", time.Second, "the OP's device poll interval")
	only := flag.String("only", "", "comma-separated groups to run (call, startup, size, plugin, protocol, concurrency); empty runs all")
	logFile := flag.String("server-log", "", "append the servers' stderr to this file")
	flag.Parse()
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		serverLog = f
	}
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "bench: -bin DIR is required (scripts/bench builds it)")
		os.Exit(2)
	}
	// zitadel/oidc logs every OAuth error answer through slog.Default.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	b := binaries{
		server: filepath.Join(*dir, "testserver"), bareMCPGo: filepath.Join(*dir, "bare-mcpgo"),
		bareGoSDK: filepath.Join(*dir, "bare-gosdk"), plugin: filepath.Join(*dir, "corpidp-driver"),
		pluginTiny: filepath.Join(*dir, "plugin-tiny"), pluginBare: filepath.Join(*dir, "plugin-bare"),
		github: filepath.Join(*dir, "github"), githubGo: filepath.Join(*dir, "github-gosdk"),
	}
	if _, err := os.Stat(b.githubGo); err != nil {
		b.githubGo = ""
	}
	// Plugin copies go to a cache of this run's own, not the user's.
	cache, err := os.MkdirTemp("", "mcpauth-bench-cache-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(cache)
	os.Setenv("XDG_CACHE_HOME", cache)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	groups := []struct {
		name string
		run  func(context.Context, binaries, options) ([]row, error)
	}{
		{"call", callRows},
		{"startup", startupRows},
		{"size", sizeRows},
		{"plugin", pluginRows},
		{"protocol", protocolRows},
		{"concurrency", concurrencyRows},
	}
	var rows []row
	for _, g := range groups {
		if *only != "" && !strings.Contains(","+*only+",", ","+g.name+",") {
			continue
		}
		t0 := time.Now()
		gctx, cancel := context.WithTimeout(ctx, groupTimeout)
		rs, err := g.run(gctx, b, o)
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", g.name, err)
			msg := err.Error()
			if len(msg) > 160 {
				msg = msg[:160] + "…"
			}
			rs = append(rs, row{figure: g.name + ": failed: " + msg})
		}
		fmt.Fprintf(os.Stderr, "bench: %s done in %s\n", g.name, time.Since(t0).Round(time.Millisecond))
		rows = append(rows, rs...)
	}
	host, _ := os.Hostname()
	fmt.Printf("mcpauth benchmarks, %s, %s, %d CPUs (%s), %s/%s %s, %d runs\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), host, runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version(), o.runs)
	printTable(os.Stdout, rows)
	fmt.Printf("\nmin/median/max over runs; a goal is judged on the median. Wall time %s.\n", time.Since(start).Round(time.Second))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// groupTimeout bounds each group of figures, so that one that hangs
// leaves the others their time; the whole run is bounded at 4 minutes.
const groupTimeout = 90 * time.Second

// logTo is where progress goes: stderr, never the table's stdout.
var logTo io.Writer = os.Stderr

// serverLog receives the servers' stderr (-server-log); nil discards it.
var serverLog io.Writer
