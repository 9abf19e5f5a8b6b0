package okta

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mcpauth/mcpauth/provider"
)

// ErrPolicyEvaluationFailed: no access policy rule of a custom
// authorization server matches the request (Okta: access_denied, "Policy
// evaluation failed for this request"). It is a configuration error, not
// the user declining, and does not match provider.ErrAccessDenied.
var ErrPolicyEvaluationFailed = errors.New("okta: no access policy rule of the authorization server matches the request")

// What a grant error was for, to say which app setting to change.
type operation int

const (
	opDevice operation = iota
	opCode
	opRefresh
)

// Where to find an app's grant types in the Okta Admin Console.
const grantTypeSetting = "Okta Admin Console → Applications → the app → General → General Settings → Grant type"

// translate explains Okta's refusals: which app setting to turn on for
// unauthorized_client and invalid_client, and what a DPoP error means.
func translate(op operation, err error) error {
	var oe *provider.OAuthError
	if err == nil || !errors.As(err, &oe) {
		return err
	}
	switch oe.Code {
	case "access_denied":
		if strings.Contains(oe.Description, "Policy evaluation failed") {
			// Not the user's decline: no policy rule matches. The OAuth
			// error is named, not wrapped: it would match ErrAccessDenied.
			return fmt.Errorf("%w: add a rule %s (Okta: %s: %s)", ErrPolicyEvaluationFailed, policyRule(op), oe.Code, oe.Description)
		}
	case "unauthorized_client":
		switch op {
		case opDevice:
			return fmt.Errorf("okta: the app may not use the device grant: check Device Authorization under %s (the app must be a Native app): %w", grantTypeSetting, err)
		case opRefresh:
			return fmt.Errorf("okta: the app may not use refresh tokens: check Refresh Token under %s: %w", grantTypeSetting, err)
		}
		return fmt.Errorf("okta: the app may not use the authorization code grant: check Authorization Code under %s: %w", grantTypeSetting, err)
	case "invalid_client":
		if op == opDevice {
			return fmt.Errorf("okta: Okta refused the client for the device grant: the client ID must belong to a Native app (a public client, Client authentication \"None\") with Device Authorization checked under %s: %w", grantTypeSetting, err)
		}
		return fmt.Errorf("okta: Okta refused the client: the client ID must belong to a Native app (a public client, Client authentication \"None\", PKCE required): %w", err)
	case errInvalidDPoPProof, errUseDPoPNonce:
		return fmt.Errorf("okta: Okta refused the DPoP proof (RFC 9449; the app requires DPoP in token requests, and DPoP-bound refresh tokens work only with the key of the process that got them): %w", err)
	}
	return err
}

// Where a custom authorization server's access policies are edited.
const policySetting = "Okta Admin Console → Security → API → Authorization Servers → the server → Access Policies"

// policyRule says which access policy rule a grant needs.
func policyRule(op operation) string {
	grant := "Authorization Code"
	switch op {
	case opDevice:
		grant = "Device Authorization"
	case opRefresh:
		grant = "the grant the token came from (Authorization Code or Device Authorization)"
	}
	return fmt.Sprintf("allowing grant type %s for this app and these scopes to a policy under %s (IF Grant type is: %s)", grant, policySetting, grant)
}

func (d *Driver) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	if _, err := d.Metadata(ctx); err != nil {
		return nil, err
	}
	scopes = d.loginScopes(scopes)
	da, err := d.Driver.StartDevice(ctx, scopes)
	return da, translate(opDevice, err)
}

func (d *Driver) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (*provider.Token, error) {
	if _, err := d.Metadata(ctx); err != nil {
		return nil, err
	}
	t, err := d.Driver.PollDevice(ctx, da)
	return d.issued(t, translate(opDevice, err))
}

func (d *Driver) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	if _, err := d.Metadata(ctx); err != nil {
		return "", err
	}
	req.Scopes = d.loginScopes(req.Scopes)
	return d.Driver.AuthCodeURL(ctx, req)
}

func (d *Driver) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	if _, err := d.Metadata(ctx); err != nil {
		return nil, err
	}
	t, err := d.Driver.Exchange(ctx, code, verifier, redirect)
	return d.issued(t, translate(opCode, err))
}

func (d *Driver) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	if _, err := d.Metadata(ctx); err != nil {
		return nil, err
	}
	nt, err := d.Driver.Refresh(ctx, t)
	if err == nil && nt.RefreshToken == "" {
		// Rotation off (Okta's default): the refresh token used stays
		// valid and is kept (RFC 6749 §6: a new one is optional).
		nt.RefreshToken = t.RefreshToken
	}
	return d.issued(nt, translate(opRefresh, err))
}

// loginScopes is scopes(requested); the first time it adds offline_access
// it says so.
func (d *Driver) loginScopes(requested []string) []string {
	s := d.scopes(requested)
	if !d.cfg.DisableRefresh {
		d.offlineOnce.Do(func() {
			d.cfg.Logger.Info("okta: requesting offline_access so Okta issues a refresh token (Config.DisableRefresh turns this off)",
				"issuer", d.cfg.Issuer)
		})
	}
	return s
}

// issued notes, once, a DPoP-bound token (token type DPoP): an API that
// enforces the binding wants a proof with each request (RFC 9449 §7), and
// a Bearer header alone will be refused there.
func (d *Driver) issued(t *provider.Token, err error) (*provider.Token, error) {
	if err == nil && t != nil && strings.EqualFold(t.TokenType, "DPoP") {
		d.boundOnce.Do(func() {
			d.cfg.Logger.Warn("okta: Okta issued a DPoP-bound access token; APIs that enforce DPoP need a proof with each request (RFC 9449 §7), not only the token",
				"issuer", d.cfg.Issuer)
		})
	}
	return t, err
}
