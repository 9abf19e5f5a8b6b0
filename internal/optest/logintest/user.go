package logintest

import (
	"context"
	"errors"
)

// errNoDevices is what a User without Devices answers to device requests.
var errNoDevices = errors.New("logintest: the fake has no device grant")

// User is the person at an issuer fake, as sdk/drivertest's OP interface
// wants one: ApproveDevice and DenyDevice act on the fake's Devices, and
// Browse is [Browse]. Embedded in a fake's OP, it leaves the OP only its
// DriverConfig to write. A User without Devices (an issuer with no device
// grant) fails the device methods.
type User struct {
	Devices *Devices
}

// ApproveDevice approves the device authorization with userCode.
func (u User) ApproveDevice(_ context.Context, userCode string) error {
	if u.Devices == nil {
		return errNoDevices
	}
	return u.Devices.Approve(userCode)
}

// DenyDevice denies the device authorization with userCode.
func (u User) DenyDevice(_ context.Context, userCode string) error {
	if u.Devices == nil {
		return errNoDevices
	}
	return u.Devices.Deny(userCode)
}

// Browse consents to the authorization request at authURL; see [Browse].
func (User) Browse(ctx context.Context, authURL string) error {
	return Browse(ctx, authURL)
}
