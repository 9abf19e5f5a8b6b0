package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// tokenLifetime is the access tokens' lifetime in the expired-token
// figure: mcpauth counts a token as expired in the last half of a life
// this short (provider.Token.ValidAt), so it is expired 2 s after login.
const tokenLifetime = 4 * time.Second

// burstTimeout bounds one burst (both halves take ~5 s), so that a run that
// stalls leaves the other runs their time.
const burstTimeout = 20 * time.Second

// concurrencyRows: o.concurrent calls at once before any login (one
// authorization at the OP), on an expired token (one refresh), and two
// server processes sharing a file store called at once before any login
// (one authorization).
func concurrencyRows(ctx context.Context, b binaries, o options) ([]row, error) {
	var rows []row
	for _, sdk := range sdkServers(b) {
		auths := row{figure: fmt.Sprintf("%d concurrent calls before login: authorizations (%s)", o.concurrent, sdk.name), goal: "≤ 1", met: atMost(1)}
		authP50 := row{figure: fmt.Sprintf("  their latency p50, incl. the user's approval (%s)", sdk.name), unit: "ms"}
		authP99 := row{figure: fmt.Sprintf("  their latency p99 (%s)", sdk.name), unit: "ms"}
		refr := row{figure: fmt.Sprintf("%d concurrent calls on an expired token: refreshes (%s)", o.concurrent, sdk.name), goal: "≤ 1", met: atMost(1)}
		refP50 := row{figure: fmt.Sprintf("  their latency p50 (%s)", sdk.name), unit: "ms"}
		refP99 := row{figure: fmt.Sprintf("  their latency p99 (%s)", sdk.name), unit: "ms"}
		var failed []string
		for range o.runs {
			n, lat, m, rlat, err := burst(ctx, b, sdk.name, o)
			if err != nil {
				// A failed run is a result: say so in the rows, keep the others.
				fmt.Fprintf(logTo, "bench: concurrency (%s): %v\n", sdk.name, err)
				failed = append(failed, err.Error())
				continue
			}
			auths.ours, refr.ours = append(auths.ours, float64(n)), append(refr.ours, float64(m))
			authP50.ours, authP99.ours = append(authP50.ours, ms(percentile(lat, 50))), append(authP99.ours, ms(percentile(lat, 99)))
			refP50.ours, refP99.ours = append(refP50.ours, ms(percentile(rlat, 50))), append(refP99.ours, ms(percentile(rlat, 99)))
		}
		if len(auths.ours) == 0 {
			auths.na = "every run failed"
		}
		rows = append(rows, auths, authP50, authP99, refr, refP50, refP99)
		if len(failed) > 0 {
			// The figures above are the runs that completed.
			what, _, _ := strings.Cut(failed[0], ", the first with")
			rows = append(rows, row{figure: fmt.Sprintf("  FAILED: %d of %d runs (%s) (%s)", len(failed), o.runs, what, sdk.name)})
		}
	}
	shared := row{figure: "two server processes, one file store, called at once: authorizations", goal: "≤ 1", met: atMost(1)}
	for range o.runs {
		n, err := sharedLogin(ctx, b)
		if err != nil {
			return rows, fmt.Errorf("shared store: %w", err)
		}
		shared.ours = append(shared.ours, float64(n))
	}
	return append(rows, shared), nil
}

// burst starts a fresh server and OP, calls ping o.concurrent times at
// once before any login (approving the one code shown), then waits until
// the token counts as expired and does it again. It returns the device
// authorizations and the latencies of the first burst, the refresh
// requests and the latencies of the second.
func burst(ctx context.Context, b binaries, sdkName string, o options) (int, []time.Duration, int, []time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, burstTimeout)
	defer cancel()
	w, err := newWorld(zitadelop.Options{PollInterval: o.interval, AccessTokenLifetime: tokenLifetime})
	if err != nil {
		return 0, nil, 0, nil, err
	}
	defer w.close()
	var mu sync.Mutex
	seen := map[string]bool{}
	s, err := startServer(ctx, b.server, w.serverArgs(sdkName), w.env(), func(message, _ string) string {
		code := userCodeRE.FindString(message)
		if code == "" {
			return "cancel"
		}
		mu.Lock()
		first := !seen[code]
		seen[code] = true
		mu.Unlock()
		if first { // each code shown is approved once, by the user
			go func() {
				time.Sleep(100 * time.Millisecond)
				if err := w.op.ApproveDevice(ctx, code); err != nil {
					fmt.Fprintf(logTo, "bench: approving %s: %v\n", code, err)
				}
			}()
		}
		return "accept"
	})
	if err != nil {
		return 0, nil, 0, nil, err
	}
	defer s.close()
	if err := s.initialize(ctx, true); err != nil {
		return 0, nil, 0, nil, err
	}
	devices := w.op.Requests(w.op.DevicePath())
	lat, err := concurrently(ctx, s, o.concurrent)
	if err != nil {
		return 0, nil, 0, nil, fmt.Errorf("before login: %w", err)
	}
	devices = w.op.Requests(w.op.DevicePath()) - devices
	time.Sleep(tokenLifetime/2 + 200*time.Millisecond) // the token now counts as expired
	tokens := w.op.Requests(w.op.TokenPath())
	rlat, err := concurrently(ctx, s, o.concurrent)
	if err != nil {
		return 0, nil, 0, nil, fmt.Errorf("expired token: %w", err)
	}
	return devices, lat, w.op.Requests(w.op.TokenPath()) - tokens, rlat, nil
}

// concurrently calls ping n times at once and returns each call's latency.
func concurrently(ctx context.Context, s *serverProc, n int) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[i], errs[i] = s.ping(ctx)
		}()
	}
	wg.Wait()
	return lat, firstError(errs)
}

// firstError is the first of errs with how many calls failed, or nil.
func firstError(errs []error) error {
	n, first := 0, error(nil)
	for _, err := range errs {
		if err != nil {
			if n++; first == nil {
				first = err
			}
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d calls failed, the first with: %w", n, len(errs), first)
}

// sharedLogin starts two servers over one encrypted file store (one HOME,
// so one key file) and calls both at once before any login; it returns
// the device authorizations the OP received.
func sharedLogin(ctx context.Context, b binaries) (int, error) {
	w, err := newWorld(zitadelop.Options{})
	if err != nil {
		return 0, err
	}
	defer w.close()
	var mu sync.Mutex
	approved := map[string]bool{}
	approve := func(message, _ string) string {
		code := userCodeRE.FindString(message)
		if code == "" {
			return "cancel"
		}
		mu.Lock()
		first := !approved[code]
		approved[code] = true
		mu.Unlock()
		if first {
			if err := w.op.ApproveDevice(ctx, code); err != nil {
				fmt.Fprintf(logTo, "bench: approving %s: %v\n", code, err)
			}
		}
		return "accept"
	}
	var servers []*serverProc
	defer func() {
		for _, s := range servers {
			s.close()
		}
	}()
	for range 2 {
		s, err := startServer(ctx, b.server, w.serverArgs("mcp-go"), w.env("MCPAUTH_STORE=file"), approve)
		if err != nil {
			return 0, err
		}
		servers = append(servers, s)
		if err := s.initialize(ctx, true); err != nil {
			return 0, err
		}
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.ping(ctx)
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return 0, err
	}
	return w.op.Requests(w.op.DevicePath()), nil
}
