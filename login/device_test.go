package login

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// fakeClock advances only when the poller sleeps: tests never wait.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
	// cancelAfter cancels the context when the n-th sleep begins (0: never).
	cancelAfter int
	cancel      context.CancelFunc
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	if c.cancelAfter > 0 && len(c.sleeps) == c.cancelAfter {
		c.cancel()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.now = c.now.Add(d)
	return nil
}

// scriptedDevice answers polls from a script and records when they came.
type scriptedDevice struct {
	clock   *fakeClock
	answers []error // nil entry = success
	polls   []time.Time
}

func (s *scriptedDevice) StartDevice(context.Context, []string) (*provider.DeviceAuthorization, error) {
	return nil, errors.New("not used")
}

func (s *scriptedDevice) PollDevice(ctx context.Context, _ *provider.DeviceAuthorization) (*provider.Token, error) {
	s.polls = append(s.polls, s.clock.now)
	i := len(s.polls) - 1
	if i >= len(s.answers) {
		return nil, errors.New("test: poll beyond the script")
	}
	if s.answers[i] != nil {
		return nil, s.answers[i]
	}
	return &provider.Token{AccessToken: "at"}, nil
}

func oauthErr(code string) error {
	return &provider.OAuthError{Endpoint: "token", Code: code, StatusCode: 400}
}

func TestDevicePollerTiming(t *testing.T) {
	pending, slow := oauthErr("authorization_pending"), oauthErr("slow_down")
	s := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, x := range n {
			d = append(d, time.Duration(x)*time.Second)
		}
		return d
	}
	tests := []struct {
		name       string
		interval   time.Duration
		expiresIn  time.Duration
		answers    []error
		wantSleeps []time.Duration
		wantErr    error
	}{
		{name: "default interval 5s, approved after 3 intervals", answers: []error{pending, pending, pending, nil}, wantSleeps: s(5, 5, 5, 5)},
		{name: "server interval", interval: 2 * time.Second, answers: []error{pending, nil}, wantSleeps: s(2, 2)},
		{name: "slow_down adds 5s each time", interval: 1 * time.Second, answers: []error{slow, pending, slow, nil}, wantSleeps: s(1, 6, 6, 11)},
		{name: "larger server interval on slow_down wins", interval: 1 * time.Second,
			answers:    []error{&provider.OAuthError{Code: "slow_down", StatusCode: 200, Interval: 20 * time.Second}, nil},
			wantSleeps: s(1, 20)},
		{name: "smaller server interval on slow_down loses", interval: 5 * time.Second,
			answers:    []error{&provider.OAuthError{Code: "slow_down", Interval: 6 * time.Second}, nil},
			wantSleeps: s(5, 10)},
		{name: "access_denied ends", answers: []error{pending, oauthErr("access_denied")}, wantSleeps: s(5, 5), wantErr: provider.ErrAccessDenied},
		{name: "expired_token from server ends", answers: []error{oauthErr("expired_token")}, wantSleeps: s(5), wantErr: provider.ErrExpiredToken},
		{name: "unknown error code ends", answers: []error{oauthErr("server_error")}, wantSleeps: s(5)},
		{name: "local expiry: no request after the device code expired (the last wait ends at the expiry)", interval: 4 * time.Second, expiresIn: 10 * time.Second,
			answers: []error{pending, pending, pending}, wantSleeps: s(4, 4, 2), wantErr: provider.ErrExpiredToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(1_000_000, 0)}
			d := &scriptedDevice{clock: clock, answers: tt.answers}
			da := &provider.DeviceAuthorization{UserCode: "ABCD", Interval: tt.interval, Scopes: []string{"openid"}}
			if tt.expiresIn > 0 {
				da.ExpiresAt = clock.now.Add(tt.expiresIn)
			}
			var progress []DeviceProgress
			p := &DevicePoller{Now: clock.Now, Sleep: clock.Sleep, OnProgress: func(dp DeviceProgress) { progress = append(progress, dp) }}
			tok, err := p.Poll(context.Background(), d, da)
			if !slices.Equal(clock.sleeps, tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", clock.sleeps, tt.wantSleeps)
			}
			// Exactly one request per interval: polls happen right after each
			// sleep, except a final sleep that found the code expired.
			wantPolls := len(tt.wantSleeps)
			if errors.Is(tt.wantErr, provider.ErrExpiredToken) && tt.expiresIn > 0 {
				wantPolls--
			}
			if len(d.polls) != wantPolls {
				t.Errorf("polls = %d, want %d", len(d.polls), wantPolls)
			}
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case tt.answers[len(tt.answers)-1] == nil:
				if err != nil || tok.AccessToken != "at" {
					t.Fatalf("Poll = %v, %v; want token", tok, err)
				}
				if !slices.Equal(tok.Scopes, []string{"openid"}) {
					t.Errorf("scopes = %v, want requested scopes filled in", tok.Scopes)
				}
			default:
				var oe *provider.OAuthError
				if !errors.As(err, &oe) || oe.Code != "server_error" {
					t.Fatalf("err = %v, want the server's OAuthError", err)
				}
			}
			if tt.wantErr == nil && len(progress) != len(d.polls)-1 {
				t.Errorf("progress callbacks = %d, want %d", len(progress), len(d.polls)-1)
			}
		})
	}
}

func TestDevicePollerProgress(t *testing.T) {
	pending := oauthErr("authorization_pending")
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	d := &scriptedDevice{clock: clock, answers: []error{pending, pending, nil}}
	da := &provider.DeviceAuthorization{Interval: 3 * time.Second, ExpiresAt: clock.now.Add(60 * time.Second)}
	var got []DeviceProgress
	p := &DevicePoller{Now: clock.Now, Sleep: clock.Sleep, OnProgress: func(dp DeviceProgress) { got = append(got, dp) }}
	if _, err := p.Poll(context.Background(), d, da); err != nil {
		t.Fatal(err)
	}
	want := []DeviceProgress{
		{Polls: 1, Elapsed: 3 * time.Second, Total: 60 * time.Second, Interval: 3 * time.Second},
		{Polls: 2, Elapsed: 6 * time.Second, Total: 60 * time.Second, Interval: 3 * time.Second},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("progress = %+v, want %+v", got, want)
	}
}

func TestDevicePollerNoRequestAfterCancel(t *testing.T) {
	pending := oauthErr("authorization_pending")
	for _, cancelAt := range []int{1, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		clock := &fakeClock{now: time.Unix(0, 0), cancelAfter: cancelAt, cancel: cancel}
		d := &scriptedDevice{clock: clock, answers: []error{pending, pending, pending, pending}}
		_, err := (&DevicePoller{Now: clock.Now, Sleep: clock.Sleep}).Poll(ctx, d, &provider.DeviceAuthorization{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancel at sleep %d: err = %v, want context.Canceled", cancelAt, err)
		}
		if len(d.polls) != cancelAt-1 {
			t.Fatalf("cancel at sleep %d: %d polls, want %d", cancelAt, len(d.polls), cancelAt-1)
		}
	}
}

func TestDevicePollerRealSleepHonoursCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := &scriptedDevice{clock: &fakeClock{}}
	_, err := (&DevicePoller{}).Poll(ctx, d, &provider.DeviceAuthorization{Interval: time.Hour})
	if !errors.Is(err, context.Canceled) || len(d.polls) != 0 {
		t.Fatalf("err = %v, polls = %d; want canceled and no poll", err, len(d.polls))
	}
}
