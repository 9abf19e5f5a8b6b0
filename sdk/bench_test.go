package sdk_test

import (
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// BenchmarkProtectedCall measures the round trip of a trivial protected
// tool call with the token in memory (the example server's ping) against
// the same tool on a bare mcp-go server (bench/bareserver/mcpgo), both over
// real stdio from the mcp-go client. Calls alternate between the two
// servers so that machine noise hits both alike. Reported per call: mean
// and median of each, and their ratios (goal: within 1.05).
//
//	go test -run '^$' -bench ProtectedCall -benchtime 2000x ./sdk/
func BenchmarkProtectedCall(b *testing.B) {
	h := newHarness(b, zitadelop.Options{})
	protected := startClient(b, h.serverCmd(nil), clientConfig{lib: "mcp-go", version: v20251125, elicit: "url",
		onElicit: func(e elicitation) string { return approve(b, h.op, e) }})
	bare := startClient(b, &serverProc{cmd: exec.Command(bareBin), stderr: &syncBuffer{}}, clientConfig{lib: "mcp-go", version: v20251125, elicit: "none"})
	ctx := testContext(b)
	call := func(c testClient) time.Duration {
		start := time.Now()
		res, err := c.Call(ctx, "ping", nil, nil)
		d := time.Since(start)
		if err != nil || res.Text != "pong" {
			b.Fatalf("ping = %+v, %v", res, err)
		}
		return d
	}
	call(protected) // logs in
	for range 200 { // warm up both processes
		call(protected)
		call(bare)
	}
	tp := make([]time.Duration, 0, b.N)
	tb := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			tb = append(tb, call(bare))
			tp = append(tp, call(protected))
		} else {
			tp = append(tp, call(protected))
			tb = append(tb, call(bare))
		}
	}
	b.StopTimer()
	meanP, meanB := mean(tp), mean(tb)
	medP, medB := median(tp), median(tb)
	b.ReportMetric(float64(meanP.Nanoseconds()), "protected-mean-ns")
	b.ReportMetric(float64(meanB.Nanoseconds()), "bare-mean-ns")
	b.ReportMetric(float64(medP.Nanoseconds()), "protected-p50-ns")
	b.ReportMetric(float64(medB.Nanoseconds()), "bare-p50-ns")
	b.ReportMetric(float64(meanP)/float64(meanB), "mean-ratio")
	b.ReportMetric(float64(medP)/float64(medB), "p50-ratio")
	b.ReportMetric(0, "ns/op") // the pair's wall time says nothing; see the ratios
}

func mean(d []time.Duration) time.Duration {
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return sum / time.Duration(max(len(d), 1))
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
