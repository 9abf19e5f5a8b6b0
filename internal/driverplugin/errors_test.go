package driverplugin

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpauth/mcpauth/provider"
)

// Typed errors survive the plugin boundary.
func TestErrorRoundTrip(t *testing.T) {
	oe := &provider.OAuthError{Endpoint: "token", Code: "slow_down", Description: "d", URI: "u", StatusCode: 200, Interval: 10 * time.Second}
	got, transport := fromStatus(toStatus(fmt.Errorf("wrapped: %w", oe)))
	var back *provider.OAuthError
	if transport || !errors.As(got, &back) || *back != *oe || !errors.Is(got, provider.ErrSlowDown) {
		t.Fatalf("OAuthError came back as %#v", got)
	}
	for _, s := range []error{provider.ErrGrantUnsupported, provider.ErrIssuerMismatch, provider.ErrExpiredToken, provider.ErrRevocationUnsupported} {
		got, _ := fromStatus(toStatus(fmt.Errorf("driver x: %w", s)))
		if !errors.Is(got, s) || got.Error() != "driver x: "+s.Error() {
			t.Errorf("%v came back as %v", s, got)
		}
	}
	if got, _ := fromStatus(toStatus(context.Canceled)); !errors.Is(got, context.Canceled) {
		t.Errorf("cancel came back as %v", got)
	}
	if _, transport := fromStatus(status.Error(codes.Unavailable, "conn refused")); !transport {
		t.Error("Unavailable not seen as a transport failure")
	}
	plain, _ := fromStatus(toStatus(errors.New("boom")))
	if plain.Error() != "boom" {
		t.Errorf("plain error came back as %q", plain)
	}
}
