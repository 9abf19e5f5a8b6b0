package registry

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/provider"
)

// BenchmarkPluginOverhead measures what running a driver as a plugin costs
// against running the same driver in process: the cold start (fork, exec,
// handshake, mutual TLS, Capabilities, Configure; the verified copy of the
// binary reused, as at every start but a binary's first) as p50 and p99
// over 30 starts, and the per-call overhead (one AuthCodeURL, which is pure
// computation in the driver, so the difference is the gRPC round trip). It
// reports both and their ratio; scripts/bench reports the same for the
// plugins of real binaries:
//
//	go test -run '^$' -bench PluginOverhead -benchtime 200x ./registry/
func BenchmarkPluginOverhead(b *testing.B) {
	meta := &provider.AuthServerMetadata{Issuer: "https://as.example", AuthorizationEndpoint: "https://as.example/authorize",
		TokenEndpoint: "https://as.example/token"}
	cfg := provider.DriverConfig{Issuer: meta.Issuer, ClientID: "bench", Metadata: meta}
	req := provider.AuthCodeRequest{State: "s", CodeChallenge: "c", RedirectURI: "http://127.0.0.1:1/callback", Scopes: []string{"openid"}}
	ctx := context.Background()

	reg, _, _ := Resolve(drivers.Builtin, "oidc", "")
	inproc, err := reg.New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	spec, err := BuiltinPluginSpec("bench", "oidc", cfg)
	if err != nil {
		b.Fatal(err)
	}
	warm := OpenPlugin(spec)
	defer warm.Close()
	if err := warm.Start(ctx); err != nil {
		b.Fatal(err)
	}

	call := func(d provider.Driver) time.Duration {
		t0 := time.Now()
		if _, err := d.(provider.CodeExchanger).AuthCodeURL(ctx, req); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}

	const starts = 30
	cold := make([]time.Duration, 0, starts)
	for range starts {
		p := OpenPlugin(spec)
		t0 := time.Now()
		if err := p.Start(ctx); err != nil {
			b.Fatal(err)
		}
		cold = append(cold, time.Since(t0))
		p.Close()
	}
	slices.Sort(cold)
	p50, p99 := cold[starts/2], cold[starts*99/100]

	// Interleaved, so drift in the machine's load hits both forms alike.
	var inT, outT time.Duration
	n := 0
	for b.Loop() {
		inT += call(inproc)
		outT += call(warm)
		n++
	}
	in, out := float64(inT.Nanoseconds())/float64(n), float64(outT.Nanoseconds())/float64(n)
	b.ReportMetric(in, "inproc-ns/call")
	b.ReportMetric(out, "plugin-ns/call")
	b.ReportMetric(out/in, "call-ratio")
	b.ReportMetric(float64(p50.Microseconds())/1000, "cold-start-p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "cold-start-p99-ms")
	b.ReportMetric((out-in)/1000, "overhead-µs/call")
}
