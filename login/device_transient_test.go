package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

var (
	errTimeout = &url.Error{Op: "Post", URL: "https://as.example/token", Err: os.ErrDeadlineExceeded}
	errReset   = &url.Error{Op: "Post", URL: "https://as.example/token",
		Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	errEOF = fmt.Errorf("oidc: reading the token response: %w", io.ErrUnexpectedEOF)
	err502 = &provider.OAuthError{Endpoint: "token", Code: "invalid_response", Description: "no access_token and no error in the response", StatusCode: 502}
	err503 = &provider.OAuthError{Endpoint: "token", Code: "server_error", StatusCode: 503}
)

func TestIsTransient(t *testing.T) {
	for _, err := range []error{errTimeout, errReset, errEOF, err502, err503,
		&provider.OAuthError{Code: "temporarily_unavailable", StatusCode: 400}} {
		if !provider.IsTransient(err) {
			t.Errorf("provider.IsTransient(%v) = false, want true", err)
		}
	}
	for _, err := range []error{nil, errors.New("x"), oauthErr("server_error"), oauthErr("access_denied"),
		&provider.OAuthError{Code: "invalid_client", StatusCode: 500}, &provider.OAuthError{Code: "invalid_grant", StatusCode: 503},
		&provider.OAuthError{Code: "access_denied", StatusCode: 502}, &provider.OAuthError{Code: "expired_token", StatusCode: 500},
		context.Canceled, io.EOF} {
		if provider.IsTransient(err) {
			t.Errorf("provider.IsTransient(%v) = true, want false", err)
		}
	}
}

// TestDevicePollerRetriesTransient: RFC 8628 §3.5 — a connection timeout or
// a server failure is no answer to the device grant; the client backs off
// (doubling the wait) and polls again within the device code's lifetime.
func TestDevicePollerRetriesTransient(t *testing.T) {
	pending := oauthErr("authorization_pending")
	s := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, x := range n {
			d = append(d, time.Duration(x)*time.Second)
		}
		return d
	}
	tests := []struct {
		name       string
		expiresIn  time.Duration
		answers    []error
		wantSleeps []time.Duration
		wantPolls  int
		wantErr    error // nil: a token
	}{
		{name: "timeout and reset then approved", expiresIn: 10 * time.Minute,
			answers: []error{pending, errTimeout, errReset, pending, nil}, wantSleeps: s(5, 5, 10, 20, 5), wantPolls: 5},
		{name: "5xx and unexpected EOF", expiresIn: 10 * time.Minute,
			answers: []error{err502, err503, errEOF, nil}, wantSleeps: s(5, 10, 20, 40), wantPolls: 4},
		{name: "backoff capped", expiresIn: time.Hour,
			answers: []error{errTimeout, errTimeout, errTimeout, errTimeout, errTimeout, nil}, wantSleeps: s(5, 10, 20, 40, 60, 60), wantPolls: 6},
		{name: "lifetime bounds the retries", expiresIn: 30 * time.Second,
			answers: []error{err503, err503, err503}, wantSleeps: s(5, 10, 15), wantPolls: 2, wantErr: provider.ErrExpiredToken}, // the last wait ends at the expiry
		{name: "without a lifetime, consecutive failures are bounded",
			answers:    []error{errTimeout, errTimeout, errTimeout, errTimeout, errTimeout, errTimeout, errTimeout, errTimeout},
			wantSleeps: s(5, 10, 20, 40, 60, 60, 60, 60), wantPolls: 8, wantErr: os.ErrDeadlineExceeded},
		{name: "invalid_grant ends at once", expiresIn: 10 * time.Minute,
			answers: []error{errTimeout, oauthErr("invalid_grant")}, wantSleeps: s(5, 10), wantPolls: 2, wantErr: provider.ErrInvalidGrant},
		{name: "invalid_client with a 5xx ends at once", expiresIn: 10 * time.Minute,
			answers: []error{&provider.OAuthError{Code: "invalid_client", StatusCode: 500}}, wantSleeps: s(5), wantPolls: 1, wantErr: provider.ErrInvalidClient},
		{name: "access_denied after a failure ends", expiresIn: 10 * time.Minute,
			answers: []error{err502, oauthErr("access_denied")}, wantSleeps: s(5, 10), wantPolls: 2, wantErr: provider.ErrAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(1_000_000, 0)}
			d := &scriptedDevice{clock: clock, answers: tt.answers}
			da := &provider.DeviceAuthorization{UserCode: "ABCD", Interval: 5 * time.Second}
			if tt.expiresIn > 0 {
				da.ExpiresAt = clock.now.Add(tt.expiresIn)
			}
			tok, err := (&DevicePoller{Now: clock.Now, Sleep: clock.Sleep}).Poll(context.Background(), d, da)
			if !slices.Equal(clock.sleeps, tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", clock.sleeps, tt.wantSleeps)
			}
			if len(d.polls) != tt.wantPolls {
				t.Errorf("polls = %d, want %d (one request per wait)", len(d.polls), tt.wantPolls)
			}
			if tt.wantErr == nil {
				if err != nil || tok == nil || tok.AccessToken != "at" {
					t.Fatalf("Poll = %v, %v; want the token", tok, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestDevicePollerNoRequestAfterCancelWhileBackingOff: a cancellation
// during a backoff wait ends the login without another request.
func TestDevicePollerNoRequestAfterCancelWhileBackingOff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clock := &fakeClock{now: time.Unix(0, 0), cancelAfter: 3, cancel: cancel}
	d := &scriptedDevice{clock: clock, answers: []error{errTimeout, errTimeout, errTimeout}}
	_, err := (&DevicePoller{Now: clock.Now, Sleep: clock.Sleep}).Poll(ctx, d, &provider.DeviceAuthorization{})
	if !errors.Is(err, context.Canceled) || len(d.polls) != 2 {
		t.Fatalf("err = %v, polls = %d; want canceled after 2 polls", err, len(d.polls))
	}
}
