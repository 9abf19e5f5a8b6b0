package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/mcpauth/mcpauth/provider"
)

// StartDevice requests a device code at /oauth/authorize_device. An
// instance that answers 404 there has no device grant (older than GitLab
// 17.2, or the oauth2_device_grant_flow flag is off): the error wraps
// provider.ErrGrantUnsupported, and from then on the driver no longer
// offers the grant (Describe) nor asks again.
func (d *Driver) StartDevice(ctx context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	if d.noDevice.Load() {
		return nil, d.errNoDevice()
	}
	da, err := d.Driver.StartDevice(ctx, scopes)
	var oe *provider.OAuthError
	if errors.As(err, &oe) && oe.Endpoint == "device_authorization" && oe.StatusCode == http.StatusNotFound {
		d.noDevice.Store(true)
		return nil, d.errNoDevice()
	}
	return da, err
}

func (d *Driver) errNoDevice() error {
	return fmt.Errorf("gitlab: %s has no device grant (POST %s answered 404): it needs GitLab 17.2 or later with the oauth2_device_grant_flow feature flag on (the default from 17.3; generally available in 17.9); log in with the browser (grant: pkce) instead: %w",
		d.cfg.Issuer, devicePath, provider.ErrGrantUnsupported)
}
