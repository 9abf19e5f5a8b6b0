package logintest

import (
	"context"
	"slices"
	"sync"
	"time"
)

// FastSleep is a login.DevicePoller Sleep for tests against issuer
// fakes: it records each interval the poller asks for and returns at once.
// A fake answers a poll by its count, not by the clock, so nothing is lost
// by not waiting, and [FastSleep.Waited] shows whether the poller kept to
// the interval and its slow_down increases (RFC 8628 section 3.5). The zero
// value is ready; it is safe for concurrent use.
type FastSleep struct {
	mu        sync.Mutex
	intervals []time.Duration
}

// Sleep records d and returns ctx.Err().
func (s *FastSleep) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.intervals = append(s.intervals, d)
	s.mu.Unlock()
	return ctx.Err()
}

// Waited returns the intervals asked for so far, in order.
func (s *FastSleep) Waited() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.intervals)
}

// shortSleepFactor is how much shorter a ShortSleep is than the interval:
// a device grant's default 5 s interval becomes 100 ms.
const shortSleepFactor = 50

// ShortSleep is a login.DevicePoller Sleep for tests against real
// authorization servers: it records each interval like [FastSleep], then
// waits a fiftieth of it. It differs from FastSleep because a real server
// judges by its own clock: a device code expires in wall-clock time, and a
// poller that did not wait at all would hammer the server's token endpoint
// until then. The zero value is ready; it is safe for concurrent use.
type ShortSleep struct {
	FastSleep
}

// Sleep records d and waits d/50, or until ctx is done.
func (s *ShortSleep) Sleep(ctx context.Context, d time.Duration) error {
	if err := s.FastSleep.Sleep(ctx, d); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d / shortSleepFactor): // collected unfired since Go 1.23
		return nil
	}
}
