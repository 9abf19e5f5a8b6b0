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
)

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
// refuses, or the device code expires. It makes no request after ctx is done.
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
// or the driver's error for anything else.
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
	for polls := 0; ; {
		if err := sleep(ctx, interval); err != nil {
			return nil, fmt.Errorf("login: device login stopped: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("login: device login stopped: %w", err)
		}
		if !da.ExpiresAt.IsZero() && !now().Before(da.ExpiresAt) {
			return nil, fmt.Errorf("login: device code for user code %s: %w", da.UserCode, provider.ErrExpiredToken)
		}
		tok, err := d.PollDevice(ctx, da)
		polls++
		switch {
		case err == nil:
			return withRequestedScopes(tok, da.Scopes), nil
		case errors.Is(err, provider.ErrAuthorizationPending):
		case errors.Is(err, provider.ErrSlowDown):
			interval += SlowDownIncrement
			var oe *provider.OAuthError
			if errors.As(err, &oe) && oe.Interval > interval {
				interval = oe.Interval
			}
		default:
			return nil, err
		}
		if p.OnProgress != nil {
			p.OnProgress(DeviceProgress{Polls: polls, Elapsed: now().Sub(start), Total: total, Interval: interval})
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
