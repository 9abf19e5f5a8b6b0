package login

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// Device-grant timing rules (RFC 8628 §3.2, §3.5).
const (
	// DefaultDeviceInterval is used when the device authorization response
	// carries no interval.
	DefaultDeviceInterval = 5 * time.Second
	// SlowDownIncrement is added to the interval on every slow_down.
	SlowDownIncrement = 5 * time.Second
	// maxTransientBackoff caps the doubled wait after transient failures:
	// long enough to ride out a restart, short enough that the user's
	// approval is picked up soon after the server is back.
	maxTransientBackoff = time.Minute
	// maxConsecutiveTransient ends a login whose device code has no known
	// lifetime after this many transient failures in a row (about five
	// minutes of waiting with the default interval), so the loop is bounded.
	maxConsecutiveTransient = 8
)

// backoff is the wait after failures consecutive transient failures: the
// interval doubled each time (RFC 8628 §3.5 recommends exponential
// backoff), capped at maxTransientBackoff, never below the interval.
func backoff(interval time.Duration, failures int) time.Duration {
	wait := interval
	for i := 0; i < failures && wait < maxTransientBackoff; i++ {
		wait *= 2
	}
	return max(interval, min(wait, maxTransientBackoff))
}

// DeviceProgress reports a device login still waiting for the user.
type DeviceProgress struct {
	Polls    int           // token requests made so far
	Elapsed  time.Duration // since polling started
	Total    time.Duration // from the start to the device code's expiry; 0 if unknown
	Interval time.Duration // the interval now in force
}

// DevicePoller owns the device-grant polling loop, so the timing rules live
// in one place for every driver: it waits one interval, makes exactly one
// token request through the driver, and repeats until the user approves,
// refuses, or the device code expires. After a transient failure (see
// provider.IsTransient) it waits longer, doubling the wait, and polls again, still one
// request per wait. It makes no request after ctx is done.
//
// The zero value is ready to use. A DevicePoller is safe for concurrent use
// if its callbacks are.
type DevicePoller struct {
	// Now and Sleep are the clock; nil means the real one. Sleep must return
	// ctx.Err() as soon as ctx is done.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// OnProgress, if set, is called after every pending or slow_down answer.
	OnProgress func(DeviceProgress)
}

// Poll waits for the user to approve da and returns the token. It ends with
// an error matching ErrExpiredToken, ErrAccessDenied, the context's error,
// the last transient error after maxConsecutiveTransient in a row (only
// when da has no expiry), or the driver's error for anything else.
func (p *DevicePoller) Poll(ctx context.Context, d provider.DeviceAuthorizer, da *provider.DeviceAuthorization) (*provider.Token, error) {
	now, sleep := p.Now, p.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepContext
	}
	interval := da.Interval
	if interval <= 0 {
		interval = DefaultDeviceInterval
	}
	start := now()
	var total time.Duration
	if !da.ExpiresAt.IsZero() {
		total = da.ExpiresAt.Sub(start)
	}
	// An interval longer than half the code's lifetime (a server asking for
	// a year) would leave no poll before the code expires: cap it there, so
	// the user who approves in time still gets logged in.
	capInterval := func(i time.Duration) time.Duration {
		if total > 0 && i > total/2 {
			return max(total/2, time.Second)
		}
		return i
	}
	interval = capInterval(interval)
	var lastTransient error
	for polls, failures := 0, 0; ; {
		wait := backoff(interval, failures)
		if !da.ExpiresAt.IsZero() {
			// A wait past the code's expiry is pointless: an absurd interval
			// (a year) must not hang the login beyond the code's lifetime.
			wait = min(wait, max(0, da.ExpiresAt.Sub(now())))
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("login: device login stopped: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("login: device login stopped: %w", err)
		}
		if !da.ExpiresAt.IsZero() && !now().Before(da.ExpiresAt) {
			if lastTransient != nil {
				return nil, fmt.Errorf("login: device code for user code %s: %w (the last token request failed: %w)", da.UserCode, provider.ErrExpiredToken, lastTransient)
			}
			return nil, fmt.Errorf("login: device code for user code %s: %w", da.UserCode, provider.ErrExpiredToken)
		}
		tok, err := d.PollDevice(ctx, da)
		polls++
		switch {
		case err == nil:
			return withRequestedScopes(tok, da.Scopes), nil
		case ctx.Err() != nil:
			return nil, fmt.Errorf("login: device login stopped: %w", ctx.Err())
		case errors.Is(err, provider.ErrAuthorizationPending):
			failures, lastTransient = 0, nil
		case errors.Is(err, provider.ErrSlowDown):
			failures, lastTransient = 0, nil
			interval += SlowDownIncrement
			var oe *provider.OAuthError
			if errors.As(err, &oe) && oe.Interval > interval {
				interval = oe.Interval
			}
			interval = capInterval(interval)
		case provider.IsTransient(err):
			failures++
			lastTransient = err
			if da.ExpiresAt.IsZero() && failures >= maxConsecutiveTransient {
				return nil, fmt.Errorf("login: device login: %d token requests in a row failed: %w", failures, err)
			}
		default:
			return nil, err
		}
		if p.OnProgress != nil {
			p.OnProgress(DeviceProgress{Polls: polls, Elapsed: now().Sub(start), Total: total, Interval: backoff(interval, failures)})
		}
	}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
