// Package secretservice starts a private Secret Service for tests: a
// D-Bus session bus of its own (dbus-daemon --session) and GNOME Keyring
// (gnome-keyring-daemon --components=secrets) on it, its login keyring
// created and unlocked headlessly with a throwaway password read on
// stdin. Nothing touches the user's own session or keyrings: the keyring
// files live in the directory given to Start.
//
// The Debian packages are dbus-daemon (or dbus) and gnome-keyring;
// scripts/test installs them.
//
//	svc, err := secretservice.Start(ctx, t.TempDir())
//	os.Setenv("DBUS_SESSION_BUS_ADDRESS", svc.Address)
//	defer svc.Close()
package secretservice

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// secretsName is the bus name the Secret Service owns (freedesktop
// Secret Service API).
const secretsName = "org.freedesktop.secrets"

// ErrMissing: dbus-daemon or gnome-keyring-daemon is not installed.
var ErrMissing = errors.New("secretservice: dbus-daemon or gnome-keyring-daemon is not installed (Debian: apt-get install dbus-daemon gnome-keyring)")

// Service is a running private Secret Service.
type Service struct {
	// Address is the D-Bus session bus address to set as
	// DBUS_SESSION_BUS_ADDRESS.
	Address string

	bus, keyring *exec.Cmd
}

// Start runs the bus and the keyring daemon with dir as their home, and
// returns once the Secret Service answers on the bus, or ctx is done.
func Start(ctx context.Context, dir string) (*Service, error) {
	for _, bin := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMissing, err)
		}
	}
	runtime := filepath.Join(dir, "run")
	if err := os.MkdirAll(runtime, 0o700); err != nil {
		return nil, fmt.Errorf("secretservice: %w", err)
	}
	env := append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_RUNTIME_DIR="+runtime, "DISPLAY=")

	s := &Service{bus: exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile",
		"--address=unix:path="+filepath.Join(runtime, "bus"), "--print-address=1")}
	s.bus.Env = env
	out, err := s.bus.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("secretservice: %w", err)
	}
	if err := s.bus.Start(); err != nil {
		return nil, fmt.Errorf("secretservice: dbus-daemon: %w", err)
	}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case s.Address = <-addr:
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("secretservice: dbus-daemon printed no address: %w", ctx.Err())
	}
	if s.Address == "" {
		s.Close()
		return nil, errors.New("secretservice: dbus-daemon exited without an address")
	}

	// --unlock reads the login keyring's password on stdin (creating the
	// keyring with it); --foreground keeps the daemon ours to stop.
	s.keyring = exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	s.keyring.Env = append(env, "DBUS_SESSION_BUS_ADDRESS="+s.Address)
	s.keyring.Stdin = strings.NewReader("throwaway test password")
	if err := s.keyring.Start(); err != nil {
		s.Close()
		return nil, fmt.Errorf("secretservice: gnome-keyring-daemon: %w", err)
	}
	if err := s.waitOwned(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// waitOwned polls the bus until the Secret Service's name has an owner.
func (s *Service) waitOwned(ctx context.Context) error {
	conn, err := dbus.Connect(s.Address)
	if err != nil {
		return fmt.Errorf("secretservice: connecting to the bus: %w", err)
	}
	defer conn.Close()
	for {
		var owned bool
		err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&owned)
		if err == nil && owned {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("secretservice: gnome-keyring-daemon did not take %s: %w", secretsName, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops the keyring daemon and the bus.
func (s *Service) Close() error {
	for _, c := range []*exec.Cmd{s.keyring, s.bus} {
		if c != nil && c.Process != nil {
			c.Process.Kill()
			c.Wait()
		}
	}
	return nil
}
