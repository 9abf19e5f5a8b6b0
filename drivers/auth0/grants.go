package auth0

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcpauth/mcpauth/provider"
)

// Where an application's grant types are in the Auth0 Dashboard.
const grantTypesSetting = "Auth0 Dashboard → Applications → the application → Settings → Advanced Settings → Grant Types"

// translate explains Auth0's refusal of a grant: which grant type to turn
// on for the application.
func translate(grant string, err error) error {
	var oe *provider.OAuthError
	if err == nil || !errors.As(err, &oe) || oe.Code != "unauthorized_client" {
		return err
	}
	return fmt.Errorf("auth0: the application may not use the %s grant: check %s under %s (device grant: the application must be Native, OIDC Conformant): %w",
		grant, grant, grantTypesSetting, err)
}

func (d *Driver) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	da, err := d.Driver.StartDevice(ctx, d.scopes(scopes))
	return da, translate("Device Code", err)
}

func (d *Driver) PollDevice(ctx context.Context, da *provider.DeviceAuthorization) (*provider.Token, error) {
	t, err := d.Driver.PollDevice(ctx, da)
	return t, translate("Device Code", err)
}

func (d *Driver) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	req.Scopes = d.scopes(req.Scopes)
	return d.Driver.AuthCodeURL(ctx, req)
}

func (d *Driver) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	t, err := d.Driver.Exchange(ctx, code, verifier, redirect)
	return t, translate("Authorization Code", err)
}

func (d *Driver) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	nt, err := d.Driver.Refresh(ctx, t)
	return nt, translate("Refresh Token", err)
}
