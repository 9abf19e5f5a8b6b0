package zitadelop

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/devidp"
)

// clientID is the public native client's client_id in tests.
const clientID = "mcpauth-test-client"

// loginPath is the login page the authorization endpoint redirects to.
const loginPath = devidp.LoginPagePath

// Options configures an OP. The zero value is a usable configuration. The
// fields are those of devidp.Options; see there.
type Options struct {
	// DeviceLifetime is the lifetime of a device_code / user_code pair;
	// default 5 minutes.
	DeviceLifetime time.Duration
	// PollInterval is the interval in the device authorization response;
	// default 1 s, a positive whole number of seconds.
	PollInterval time.Duration
	// SlowDown makes the first SlowDown device token polls answer slow_down.
	SlowDown int
	// AccessTokenLifetime shortens access tokens (at most 5 minutes).
	AccessTokenLifetime time.Duration
	// Logger receives the OP's own logs; nil discards them.
	Logger *slog.Logger
	// Addr is the loopback address to listen on; default "127.0.0.1:0".
	Addr string
}

// OP is a running OpenID Provider: a devidp.Server with the client
// "mcpauth-test-client", no RFC 8414 document, and approval by a person or
// a test (never automatic).
type OP struct {
	*devidp.Server
}

// Start starts an OP on 127.0.0.1 (or opts.Addr) and closes it when the test
// ends. It fails the test if the OP cannot start.
func Start(t testing.TB, opts Options) *OP {
	t.Helper()
	o, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := o.Close(); err != nil {
			t.Errorf("zitadelop: close: %v", err)
		}
	})
	return o
}

// New starts an OP; the caller must Close it. Start is the variant for tests.
func New(opts Options) (*OP, error) {
	s, err := devidp.New(devidp.Options{
		Addr:                opts.Addr,
		ClientID:            clientID,
		OIDCDiscoveryOnly:   true,
		DeviceLifetime:      opts.DeviceLifetime,
		PollInterval:        opts.PollInterval,
		SlowDown:            opts.SlowDown,
		AccessTokenLifetime: opts.AccessTokenLifetime,
		Logger:              opts.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("zitadelop: %w", err)
	}
	return &OP{s}, nil
}
