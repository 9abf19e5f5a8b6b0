package logintest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Device is a device authorization (RFC 8628 section 3.2) as an issuer fake
// keeps it: what the client asked for, and what the user has done with it.
type Device struct {
	UserCode string
	// Scope is the scope parameter of the device authorization request.
	Scope string
	// Issuer is the authorization server that issued it, for a fake that
	// serves several (Okta's org and custom servers); "" otherwise.
	Issuer string
	// Approved, Denied and Expired are the user's answer on the
	// verification page, or the code's expiry (RFC 8628 section 3.5).
	Approved, Denied, Expired bool
}

// Devices are an issuer fake's device authorizations, by device code. The
// fake answers a poll from [Devices.Get] in its issuer's words; the test
// plays the user with Approve, Deny and Expire. Safe for concurrent use.
type Devices struct {
	t testing.TB

	mu     sync.Mutex
	byCode map[string]*Device
}

// NewDevices returns an empty store whose user-side calls report to t.
func NewDevices(t testing.TB) *Devices {
	return &Devices{t: t, byCode: map[string]*Device{}}
}

// Start records a device authorization for scope at issuer and returns its
// device code and user code (8 characters, as a user would type them).
func (s *Devices) Start(scope, issuer string) (deviceCode, userCode string) {
	deviceCode, userCode = RandomString(), strings.ToUpper(RandomString()[:8])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byCode[deviceCode] = &Device{UserCode: userCode, Scope: scope, Issuer: issuer}
	return deviceCode, userCode
}

// Get returns the device authorization of deviceCode as it stands.
func (s *Devices) Get(deviceCode string) (Device, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.byCode[deviceCode]
	if !ok {
		return Device{}, false
	}
	return *d, true
}

// ByUserCode returns the device authorization the user knows as userCode.
func (s *Devices) ByUserCode(userCode string) (Device, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.byCode {
		if d.UserCode == userCode {
			return *d, true
		}
	}
	return Device{}, false
}

// Approve, Deny and Expire act on the device authorization with userCode as
// the user does on the verification page (or the clock does). An unknown
// user code is a mistake in the test: it fails the test (with Errorf, so
// they may be called from any goroutine) and is returned as well.
func (s *Devices) Approve(userCode string) error {
	return s.set(userCode, func(d *Device) { d.Approved = true })
}

// Deny: see [Devices.Approve].
func (s *Devices) Deny(userCode string) error {
	return s.set(userCode, func(d *Device) { d.Denied = true })
}

// Expire: see [Devices.Approve].
func (s *Devices) Expire(userCode string) error {
	return s.set(userCode, func(d *Device) { d.Expired = true })
}

func (s *Devices) set(userCode string, change func(*Device)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.byCode {
		if d.UserCode == userCode {
			change(d)
			return nil
		}
	}
	err := fmt.Errorf("logintest: no device authorization with user code %s", userCode)
	s.t.Error(err)
	return err
}
