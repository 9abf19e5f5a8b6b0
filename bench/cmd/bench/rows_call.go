package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// sdkServer is one adapter's mcpauth server and the bare server on the
// same SDK that is its baseline.
type sdkServer struct {
	name    string // mcp-go, go-sdk
	bare    string
	example string // examples/github or examples/github-gosdk; "" if not built
}

func sdkServers(b binaries) []sdkServer {
	return []sdkServer{{"mcp-go", b.bareMCPGo, b.github}, {"go-sdk", b.bareGoSDK, b.githubGo}}
}

// world is an OP and a home directory for the servers of one group.
type world struct {
	op   *zitadelop.OP
	home string
}

func newWorld(opts zitadelop.Options) (*world, error) {
	op, err := zitadelop.New(opts)
	if err != nil {
		return nil, err
	}
	home, err := os.MkdirTemp("", "mcpauth-bench-home-")
	if err != nil {
		op.Close()
		return nil, err
	}
	return &world{op: op, home: home}, nil
}

func (w *world) close() {
	w.op.Close()
	os.RemoveAll(w.home)
}

// serverArgs run the test server against w's OP: lazy mode, device grant.
func (w *world) serverArgs(sdkName string, extra ...string) []string {
	return append([]string{"-sdk", sdkName, "-issuer", w.op.Issuer, "-client-id", w.op.ClientID,
		"-scopes", "openid offline_access", "-grant", "device", "-wait", "60s"}, extra...)
}

func (w *world) env(extra ...string) []string {
	return append([]string{"HOME=" + w.home, "TMPDIR=" + os.TempDir()}, extra...)
}

// approver answers login prompts by approving the device code shown at
// the OP, as the user would.
func (w *world) approver(ctx context.Context) onElicit {
	return func(message, _ string) string {
		code := userCodeRE.FindString(message)
		if code == "" {
			return "cancel"
		}
		if err := w.op.ApproveDevice(ctx, code); err != nil {
			fmt.Fprintf(logTo, "bench: approving %s: %v\n", code, err)
		}
		return "accept"
	}
}

// loggedIn starts the test server on sdkName, logs it in and returns it.
func (w *world) loggedIn(ctx context.Context, bin, sdkName string, extra ...string) (*serverProc, error) {
	s, err := startServer(ctx, bin, w.serverArgs(sdkName, extra...), w.env(), w.approver(ctx))
	if err != nil {
		return nil, err
	}
	if err := s.initialize(ctx, true); err != nil {
		s.close()
		return nil, err
	}
	if _, err := s.ping(ctx); err != nil {
		s.close()
		return nil, fmt.Errorf("first (login) call: %w", err)
	}
	return s, nil
}

// callRows: a protected tools/call with the token in memory against the
// same tool on the bare SDK, calls alternating so machine noise hits both
// alike; then RSS after o.rssCalls calls.
func callRows(ctx context.Context, b binaries, o options) ([]row, error) {
	w, err := newWorld(zitadelop.Options{PollInterval: o.interval})
	if err != nil {
		return nil, err
	}
	defer w.close()
	var rows []row
	for _, sdk := range sdkServers(b) {
		r, rss, anon, err := protectedCall(ctx, w, b, sdk, o)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", sdk.name, err)
		}
		rows = append(rows, r, rss, anon)
	}
	return rows, nil
}

func protectedCall(ctx context.Context, w *world, b binaries, sdk sdkServer, o options) (r, rss, anon row, err error) {
	r = row{figure: "protected tools/call, mean (testserver, " + sdk.name + ")", unit: "µs", goal: "ratio ≤ 1.05", met: ratioAtMost(1.05)}
	rss = row{figure: fmt.Sprintf("RSS after %d calls (testserver, links both SDKs; %s)", o.rssCalls, sdk.name), unit: "MiB", goal: "ratio ≤ 1.15", met: ratioAtMost(1.15)}
	anon = row{figure: fmt.Sprintf("  its anonymous part, RssAnon (%s)", sdk.name), unit: "MiB"}
	prot, err := w.loggedIn(ctx, b.server, sdk.name)
	if err != nil {
		return r, rss, anon, err
	}
	defer prot.close()
	bare, err := startServer(ctx, sdk.bare, nil, w.env(), nil)
	if err != nil {
		return r, rss, anon, err
	}
	defer bare.close()
	if err := bare.initialize(ctx, false); err != nil {
		return r, rss, anon, err
	}
	n := 1
	pair := func(i int) (time.Duration, time.Duration, error) {
		n++
		if i%2 == 0 {
			db, err1 := bare.ping(ctx)
			dp, err2 := prot.ping(ctx)
			return dp, db, errors.Join(err1, err2)
		}
		dp, err1 := prot.ping(ctx)
		db, err2 := bare.ping(ctx)
		return dp, db, errors.Join(err1, err2)
	}
	for i := range 200 { // warm up both processes
		if _, _, err := pair(i); err != nil {
			return r, rss, anon, err
		}
	}
	for range o.runs {
		tp := make([]time.Duration, 0, o.calls)
		tb := make([]time.Duration, 0, o.calls)
		for i := range o.calls {
			dp, db, err := pair(i)
			if err != nil {
				return r, rss, anon, err
			}
			tp, tb = append(tp, dp), append(tb, db)
		}
		r.ours, r.base = append(r.ours, us(mean(tp))), append(r.base, us(mean(tb)))
	}
	for i := 0; n < o.rssCalls; i++ {
		if _, _, err := pair(i); err != nil {
			return r, rss, anon, err
		}
	}
	for range o.runs { // one process each: readings a moment apart
		p, pa, err1 := prot.rssMiB()
		q, qa, err2 := bare.rssMiB()
		if err := errors.Join(err1, err2); err != nil {
			return r, rss, anon, err
		}
		rss.ours, rss.base = append(rss.ours, p), append(rss.base, q)
		anon.ours, anon.base = append(anon.ours, pa), append(anon.base, qa)
		time.Sleep(50 * time.Millisecond)
	}
	return r, rss, anon, nil
}

// startupRows: process start → initialize result → first tools/list, and
// the RSS right after, for the example server on each SDK (before any
// login: examples/github, examples/github-gosdk, each linking one SDK) and
// the bare server on the same SDK, starts alternating.
func startupRows(ctx context.Context, b binaries, o options) ([]row, error) {
	w, err := newWorld(zitadelop.Options{PollInterval: o.interval})
	if err != nil {
		return nil, err
	}
	defer w.close()
	var rows []row
	for _, sdk := range sdkServers(b) {
		st := row{figure: "start → initialize → tools/list, p50 (example, " + sdk.name + ")", unit: "ms", goal: "ratio ≤ 1.05", met: ratioAtMost(1.05)}
		rss := row{figure: "RSS after start (example, " + sdk.name + ")", unit: "MiB", goal: "ratio ≤ 1.15", met: ratioAtMost(1.15)}
		anon := row{figure: "  its anonymous part, RssAnon (" + sdk.name + ")", unit: "MiB"}
		if sdk.example == "" {
			st.na, rss.na, anon.na = "example not built", "example not built", "example not built"
			rows = append(rows, st, rss, anon)
			continue
		}
		for range o.runs {
			var tp, tb []time.Duration
			var rp, rb, ap, ab []float64
			for i := range 2 * o.starts {
				ours := i%2 == 0
				bin, elicit := sdk.bare, false
				if ours {
					bin, elicit = sdk.example, true
				}
				d, mib, amib, err := startOnce(ctx, bin, nil, w.env(), elicit)
				if err != nil {
					return rows, fmt.Errorf("%s: %w", sdk.name, err)
				}
				if ours {
					tp, rp, ap = append(tp, d), append(rp, mib), append(ap, amib)
				} else {
					tb, rb, ab = append(tb, d), append(rb, mib), append(ab, amib)
				}
			}
			st.ours, st.base = append(st.ours, ms(percentile(tp, 50))), append(st.base, ms(percentile(tb, 50)))
			rss.ours, rss.base = append(rss.ours, median(rp)), append(rss.base, median(rb))
			anon.ours, anon.base = append(anon.ours, median(ap)), append(anon.base, median(ab))
		}
		rows = append(rows, st, rss, anon)
	}
	return rows, nil
}

func startOnce(ctx context.Context, bin string, args, env []string, elicit bool) (time.Duration, float64, float64, error) {
	t0 := time.Now()
	var h onElicit
	if elicit {
		h = func(string, string) string { return "cancel" }
	}
	s, err := startServer(ctx, bin, args, env, h)
	if err != nil {
		return 0, 0, 0, err
	}
	defer s.close()
	if err := s.initialize(ctx, elicit); err != nil {
		return 0, 0, 0, err
	}
	d := time.Since(t0)
	mib, anon, err := s.rssMiB()
	return d, mib, anon, err
}

// sizeRows: binary sizes. The baseline of a server is the bare server on
// its SDK; the external plugin has none.
func sizeRows(ctx context.Context, b binaries, o options) ([]row, error) {
	size := func(path string) (float64, error) {
		fi, err := os.Stat(path)
		if err != nil {
			return 0, err
		}
		return float64(fi.Size()) / 1e6, nil
	}
	var rows []row
	for _, c := range []struct{ figure, bin, base string }{
		{"binary: examples/github (mcp-go)", b.github, b.bareMCPGo},
		{"binary: examples/github-gosdk (go-sdk)", b.githubGo, b.bareGoSDK},
		{"binary: internal/testserver (both SDKs)", b.server, b.bareMCPGo},
		{"binary: external plugin examples/corpidp (baseline: go-plugin alone)", b.plugin, b.pluginBare},
		{"binary: tiny external plugin, sdk/driver only (baseline: go-plugin alone)", b.pluginTiny, b.pluginBare},
	} {
		r := row{figure: c.figure, unit: "MB"}
		if c.bin == "" {
			r.na = "not built"
			rows = append(rows, r)
			continue
		}
		v, err := size(c.bin)
		if err != nil {
			return rows, err
		}
		r.ours = []float64{v}
		if c.base != "" {
			bv, err := size(c.base)
			if err != nil {
				return rows, err
			}
			r.base = []float64{bv}
		}
		rows = append(rows, r)
	}
	wr, err := weightRows(ctx, b, o)
	return append(rows, wr...), err
}

// weightRows: the bare mcp-go server built to link one more package
// (scripts/bench, -tags weight_*): its size and its RSS after start, each
// against the bare server's. RSS follows the binary: a Go binary's pages
// are mapped as they are touched, and most of its text and read-only data
// are touched by start-up on a warm page cache.
func weightRows(ctx context.Context, b binaries, o options) ([]row, error) {
	var rows []row
	for _, w := range []struct{ tag, pkg string }{
		{"goplugin", "github.com/hashicorp/go-plugin"},
		{"registry", "registry"},
		{"drivers", "drivers"},
		{"sdk", "sdk/mcpgo"},
	} {
		bin := filepath.Join(filepath.Dir(b.bareMCPGo), "weight-"+w.tag)
		size := row{figure: "binary: bare mcp-go + import " + w.pkg, unit: "MB"}
		rss := row{figure: "  its RSS after start", unit: "MiB"}
		fi, err := os.Stat(bin)
		if err != nil {
			size.na, rss.na = "not built", "not built"
			rows = append(rows, size, rss)
			continue
		}
		bfi, err := os.Stat(b.bareMCPGo)
		if err != nil {
			return rows, err
		}
		size.ours, size.base = []float64{float64(fi.Size()) / 1e6}, []float64{float64(bfi.Size()) / 1e6}
		var rp, rb []float64
		for range o.starts {
			_, p, _, err1 := startOnce(ctx, bin, nil, nil, false)
			_, q, _, err2 := startOnce(ctx, b.bareMCPGo, nil, nil, false)
			if err := errors.Join(err1, err2); err != nil {
				return rows, err
			}
			rp, rb = append(rp, p), append(rb, q)
		}
		rss.ours, rss.base = []float64{median(rp)}, []float64{median(rb)}
		rows = append(rows, size, rss)
	}
	return rows, nil
}
