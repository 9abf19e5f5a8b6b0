package github_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/drivers/github"
	"github.com/mcpauth/mcpauth/internal/optest/logintest"
	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

func newDriver(t *testing.T, f *fakeGitHub, configure func(*github.Config)) provider.Driver {
	t.Helper()
	cfg := github.Config{BaseURL: f.URL, ClientID: f.clientID, ClientSecret: f.secret, Scopes: []string{"repo", "read:org"}}
	if configure != nil {
		configure(&cfg)
	}
	d, err := github.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDeviceLogin(t *testing.T) {
	tests := []struct {
		name                string
		githubApp, formOnly bool
	}{
		{"OAuth App, JSON as asked", false, false},
		{"OAuth App, form-encoded replies", false, true},
		{"GitHub App, JSON as asked", true, false},
		{"GitHub App, form-encoded replies", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGitHub(t, func(f *fakeGitHub) { f.githubApp, f.formOnly = tt.githubApp, tt.formOnly })
			d := newDriver(t, f, nil)
			ctx := logintest.Context(t)
			sleep := &logintest.FastSleep{}
			var shown *provider.DeviceAuthorization
			login := &login.Login{
				Preference: login.PreferDevice,
				Device: login.DevicePoller{Sleep: sleep.Sleep, OnProgress: func(p login.DeviceProgress) {
					if p.Polls == 2 {
						f.devices.Approve(shown.UserCode)
					}
				}},
				ShowDevice: func(_ context.Context, da *provider.DeviceAuthorization) error { shown = da; return nil },
			}
			tok, err := login.Run(ctx, d, []string{"repo", "read:org", "gist"})
			if err != nil {
				t.Fatal(err)
			}
			if shown.VerificationURI != f.URL+"/login/device" || shown.ExpiresAt.IsZero() || shown.Interval != 5*time.Second {
				t.Errorf("device authorization = %v", shown)
			}
			if got := sleep.Waited(); !slices.Equal(got, []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}) {
				t.Errorf("intervals = %v, want 3 × 5s", got)
			}
			if got := f.Requests("/login/oauth/access_token"); got != 3 {
				t.Errorf("token requests = %d, want 3 (pending, pending, approved)", got)
			}
			if f.secretOnDevice {
				t.Error("the client secret was sent on the device flow")
			}
			if tt.githubApp {
				if tok.RefreshToken == "" || tok.Expiry.IsZero() || time.Until(tok.Expiry) > 8*time.Hour {
					t.Errorf("GitHub App token = %v, want an 8 h expiry and a refresh token", tok)
				}
			} else {
				if tok.RefreshToken != "" || !tok.Expiry.IsZero() {
					t.Errorf("OAuth App token = %v, want no expiry and no refresh token", tok)
				}
				// GitHub reports the grant comma-separated in its own order.
				if want := []string{"gist", "read:org", "repo"}; !slices.Equal(tok.Scopes, want) {
					t.Errorf("scopes = %q, want %q", tok.Scopes, want)
				}
			}
			id, err := d.(provider.Identifier).Identity(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "583231" || id.DisplayName != "octocat" {
				t.Errorf("identity = %+v", id)
			}
		})
	}
}

func TestDeviceSlowDown(t *testing.T) {
	f := newFakeGitHub(t, func(f *fakeGitHub) { f.slowDownPolls = []int{1} })
	d := newDriver(t, f, nil)
	ctx := logintest.Context(t)
	da, err := d.(provider.DeviceAuthorizer).StartDevice(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// GitHub's slow_down carries the new interval.
	_, err = d.(provider.DeviceAuthorizer).PollDevice(ctx, da)
	var oe *provider.OAuthError
	if !errors.Is(err, provider.ErrSlowDown) || !errors.As(err, &oe) || oe.Interval != 10*time.Second || oe.StatusCode != http.StatusOK {
		t.Fatalf("err = %v (%+v), want slow_down with interval 10s and HTTP 200", err, oe)
	}
	sleep := &logintest.FastSleep{}
	p := &login.DevicePoller{Sleep: sleep.Sleep, OnProgress: func(login.DeviceProgress) { f.devices.Approve(da.UserCode) }}
	if _, err := p.Poll(ctx, d.(provider.DeviceAuthorizer), da); err != nil {
		t.Fatal(err)
	}
	if got := sleep.Waited(); !slices.Equal(got, []time.Duration{5 * time.Second, 5 * time.Second}) {
		t.Errorf("intervals = %v", got)
	}
}

// TestDeviceErrors covers every error GitHub's token endpoint documents for
// the device flow, in both encodings, each answered with HTTP 200.
func TestDeviceErrors(t *testing.T) {
	tests := []struct {
		name string
		// setup arranges the error and returns the driver to poll with.
		setup    func(t *testing.T, f *fakeGitHub, d provider.Driver, da *provider.DeviceAuthorization) provider.Driver
		want     error
		code     string
		contains []string
	}{
		{"authorization_pending", nil, provider.ErrAuthorizationPending, "authorization_pending", nil},
		{"slow_down", func(_ *testing.T, f *fakeGitHub, d provider.Driver, _ *provider.DeviceAuthorization) provider.Driver {
			f.set(func(f *fakeGitHub) { f.slowDownPolls = []int{1} })
			return d
		}, provider.ErrSlowDown, "slow_down", nil},
		{"expired_token", func(_ *testing.T, f *fakeGitHub, d provider.Driver, da *provider.DeviceAuthorization) provider.Driver {
			f.devices.Expire(da.UserCode)
			return d
		}, provider.ErrExpiredToken, "expired_token", nil},
		{"access_denied", func(_ *testing.T, f *fakeGitHub, d provider.Driver, da *provider.DeviceAuthorization) provider.Driver {
			f.devices.Deny(da.UserCode)
			return d
		}, provider.ErrAccessDenied, "access_denied", nil},
		{"incorrect_device_code", func(_ *testing.T, _ *fakeGitHub, d provider.Driver, da *provider.DeviceAuthorization) provider.Driver {
			da.DeviceCode = "not-a-device-code"
			return d
		}, provider.ErrInvalidGrant, "incorrect_device_code", []string{"device code"}},
		{"incorrect_client_credentials", func(t *testing.T, f *fakeGitHub, _ provider.Driver, _ *provider.DeviceAuthorization) provider.Driver {
			return newDriver(t, f, func(c *github.Config) { c.ClientID = "Iv1.wrong" })
		}, provider.ErrInvalidClient, "incorrect_client_credentials", []string{"Client ID"}},
		{"unsupported_grant_type", func(_ *testing.T, f *fakeGitHub, d provider.Driver, _ *provider.DeviceAuthorization) provider.Driver {
			f.set(func(f *fakeGitHub) { f.script = "unsupported_grant_type" })
			return d
		}, provider.ErrGrantUnsupported, "unsupported_grant_type", nil},
		{"device_flow_disabled", func(_ *testing.T, f *fakeGitHub, d provider.Driver, _ *provider.DeviceAuthorization) provider.Driver {
			f.set(func(f *fakeGitHub) { f.deviceFlowDisabled = true })
			return d
		}, provider.ErrGrantUnsupported, "device_flow_disabled", []string{"Enable Device Flow", "grant: pkce"}},
	}
	for _, formOnly := range []bool{false, true} {
		for _, tt := range tests {
			name := tt.name + "/json"
			if formOnly {
				name = tt.name + "/form"
			}
			t.Run(name, func(t *testing.T) {
				f := newFakeGitHub(t, func(f *fakeGitHub) { f.formOnly = formOnly })
				d := newDriver(t, f, nil)
				ctx := logintest.Context(t)
				da, err := d.(provider.DeviceAuthorizer).StartDevice(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				poller := d
				if tt.setup != nil {
					poller = tt.setup(t, f, d, da)
				}
				_, err = poller.(provider.DeviceAuthorizer).PollDevice(ctx, da)
				var oe *provider.OAuthError
				if !errors.Is(err, tt.want) || !errors.As(err, &oe) || oe.Code != tt.code || oe.StatusCode != http.StatusOK {
					t.Fatalf("err = %v, want %s (%v) with HTTP 200", err, tt.code, tt.want)
				}
				for _, s := range tt.contains {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
			})
		}
	}
}

func TestDeviceStartErrors(t *testing.T) {
	t.Run("device flow disabled", func(t *testing.T) {
		f := newFakeGitHub(t, func(f *fakeGitHub) { f.deviceFlowDisabled = true })
		login := &login.Login{
			Preference: login.PreferDevice,
			ShowDevice: func(context.Context, *provider.DeviceAuthorization) error {
				t.Error("showed a device code")
				return nil
			},
		}
		_, err := login.Run(logintest.Context(t), newDriver(t, f, nil), nil)
		if !errors.Is(err, provider.ErrGrantUnsupported) || !strings.Contains(err.Error(), "Enable Device Flow") || !strings.Contains(err.Error(), "pkce") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		f := newFakeGitHub(t, nil)
		d := newDriver(t, f, func(c *github.Config) { c.ClientID = "Iv1.wrong" })
		_, err := d.(provider.DeviceAuthorizer).StartDevice(logintest.Context(t), nil)
		if !errors.Is(err, provider.ErrInvalidClient) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("scope sent space-separated", func(t *testing.T) {
		f := newFakeGitHub(t, nil)
		d := newDriver(t, f, nil)
		da, err := d.(provider.DeviceAuthorizer).StartDevice(logintest.Context(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if dev, _ := f.devices.ByUserCode(da.UserCode); dev.Scope != "repo read:org" {
			t.Errorf("scope = %q, want the configured scopes", dev.Scope)
		}
		if !slices.Equal(da.Scopes, []string{"repo", "read:org"}) {
			t.Errorf("da.Scopes = %q", da.Scopes)
		}
	})
}
