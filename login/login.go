package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/mcpauth/mcpauth/provider"
)

// Login runs one interactive login: it picks the grant (SelectGrant), runs
// the device poller or the loopback PKCE flow through the driver, and logs
// the choice and its reason. Under PreferAuto a PKCE login that cannot start
// (ErrLoopbackUnavailable) falls back to the device grant when it is offered.
type Login struct {
	Preference GrantPreference
	// Env describes the machine; nil means DetectEnvironment().
	Env *Environment
	// Device polls device logins; the zero value uses the real clock.
	Device DevicePoller
	// Loopback runs PKCE logins; its Open shows the authorization URL.
	Loopback Loopback
	// ShowDevice shows the user code and verification URI to the user.
	// Required for device logins.
	ShowDevice func(ctx context.Context, da *provider.DeviceAuthorization) error
	// Logger receives the grant decision; nil means slog.Default().
	Logger *slog.Logger
}

// Run logs in with d for scopes and returns the token.
func (l *Login) Run(ctx context.Context, d provider.Driver, scopes []string) (*provider.Token, error) {
	logger := l.Logger
	if logger == nil {
		logger = slog.Default()
	}
	env := DetectEnvironment()
	if l.Env != nil {
		env = *l.Env
	}
	meta, err := d.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	desc := d.Describe()
	choice, err := SelectGrant(l.Preference, desc, meta, env)
	if err != nil {
		return nil, err
	}
	logger.Info("mcpauth: login grant chosen", "issuer", meta.Issuer, "driver", desc.Name,
		"grant", choice.Grant, "reason", choice.Reason)
	if choice.Grant == provider.GrantPKCE {
		tok, err := l.pkce(ctx, d, meta, scopes)
		if err == nil || !errors.Is(err, provider.ErrLoopbackUnavailable) ||
			(l.Preference != PreferAuto && l.Preference != "") || !desc.Offers(provider.GrantDevice) || !meta.Offers(provider.GrantDevice) {
			return tok, err
		}
		logger.Warn("mcpauth: browser login could not start; falling back to the device grant", "issuer", meta.Issuer, "err", err)
	}
	return l.device(ctx, d, scopes)
}

func (l *Login) pkce(ctx context.Context, d provider.Driver, meta *provider.AuthServerMetadata, scopes []string) (*provider.Token, error) {
	ce, ok := d.(provider.CodeExchanger)
	if !ok {
		return nil, fmt.Errorf("login: driver %s does not implement the pkce grant: %w", d.Describe().Name, provider.ErrGrantUnsupported)
	}
	return l.Loopback.Authorize(ctx, ce, meta, scopes)
}

func (l *Login) device(ctx context.Context, d provider.Driver, scopes []string) (*provider.Token, error) {
	da, ok := d.(provider.DeviceAuthorizer)
	if !ok {
		return nil, fmt.Errorf("login: driver %s does not implement the device grant: %w", d.Describe().Name, provider.ErrGrantUnsupported)
	}
	if l.ShowDevice == nil {
		return nil, errors.New("login: Login.ShowDevice is not set")
	}
	auth, err := da.StartDevice(ctx, scopes)
	if err != nil {
		return nil, err
	}
	if err := l.ShowDevice(ctx, auth); err != nil {
		return nil, fmt.Errorf("login: showing the device code: %w", err)
	}
	return l.Device.Poll(ctx, da, auth)
}

// withRequestedScopes fills Scopes with the requested ones when the server
// returned none (RFC 6749 §5.1: scope is optional if identical to the request).
func withRequestedScopes(t *provider.Token, requested []string) *provider.Token {
	if t != nil && len(t.Scopes) == 0 {
		t.Scopes = slices.Clone(requested)
	}
	return t
}
