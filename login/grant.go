package login

import (
	"fmt"
	"os"
	"runtime"

	"github.com/mcpauth/mcpauth/provider"
)

// GrantPreference is the user's choice of interactive grant.
type GrantPreference string

const (
	// PreferAuto picks PKCE when a browser on this machine is likely
	// reachable, the device grant otherwise.
	PreferAuto   GrantPreference = "auto"
	PreferDevice GrantPreference = "device"
	PreferPKCE   GrantPreference = "pkce"
)

// ParseGrantPreference accepts "", "auto", "device" and "pkce".
func ParseGrantPreference(s string) (GrantPreference, error) {
	switch p := GrantPreference(s); p {
	case "":
		return PreferAuto, nil
	case PreferAuto, PreferDevice, PreferPKCE:
		return p, nil
	}
	return "", fmt.Errorf("login: grant preference %q: want auto, device or pkce", s)
}

// Environment is what grant selection knows of the machine. DetectEnvironment
// reads the real one; tests build their own.
type Environment struct {
	GOOS   string
	Getenv func(string) string
	// Exists reports whether a file exists (container markers).
	Exists func(path string) bool
}

// DetectEnvironment describes the running process's machine.
func DetectEnvironment() Environment {
	return Environment{
		GOOS:   runtime.GOOS,
		Getenv: os.Getenv,
		Exists: func(p string) bool { _, err := os.Stat(p); return err == nil },
	}
}

// LocalBrowser says whether a browser on this machine is likely reachable
// for a loopback redirect, and why.
func (e Environment) LocalBrowser() (bool, string) {
	get := e.Getenv
	if get == nil {
		get = func(string) string { return "" }
	}
	exists := e.Exists
	if exists == nil {
		exists = func(string) bool { return false }
	}
	switch {
	case get("SSH_CONNECTION") != "" || get("SSH_TTY") != "" || get("SSH_CLIENT") != "":
		return false, "SSH session: the browser is on another machine"
	case exists("/.dockerenv") || exists("/run/.containerenv") || get("KUBERNETES_SERVICE_HOST") != "" || get("container") != "":
		return false, "running in a container: the loopback redirect cannot reach it"
	}
	switch e.GOOS {
	case "darwin", "windows":
		return true, "desktop OS (" + e.GOOS + ")"
	}
	if d := get("WAYLAND_DISPLAY"); d != "" {
		return true, "desktop session (WAYLAND_DISPLAY=" + d + ")"
	}
	if d := get("DISPLAY"); d != "" {
		return true, "desktop session (DISPLAY=" + d + ")"
	}
	return false, "no desktop session (no DISPLAY or WAYLAND_DISPLAY)"
}

// GrantChoice is the result of grant selection.
type GrantChoice struct {
	Grant  provider.Grant
	Reason string
}

// SelectGrant picks the interactive grant for a login from the preference,
// what the driver and the server offer, and the environment. A grant the
// driver or server rules out is never chosen; a preference that cannot be met
// is an error wrapping ErrGrantUnsupported.
func SelectGrant(pref GrantPreference, desc provider.Description, meta *provider.AuthServerMetadata, env Environment) (GrantChoice, error) {
	offers := func(g provider.Grant) bool { return desc.Offers(g) && meta.Offers(g) }
	why := func(g provider.Grant) string {
		if !desc.Offers(g) {
			return fmt.Sprintf("driver %s has no %s grant", desc.Name, g)
		}
		return fmt.Sprintf("%s does not advertise the %s grant", meta.Issuer, g)
	}
	switch pref {
	case PreferDevice, PreferPKCE:
		g := provider.GrantDevice
		if pref == PreferPKCE {
			g = provider.GrantPKCE
		}
		if !offers(g) {
			return GrantChoice{}, fmt.Errorf("login: %s configured but %s: %w", g, why(g), provider.ErrGrantUnsupported)
		}
		return GrantChoice{g, "configured"}, nil
	case PreferAuto, "":
	default:
		return GrantChoice{}, fmt.Errorf("login: unknown grant preference %q", pref)
	}
	pkce, device := offers(provider.GrantPKCE), offers(provider.GrantDevice)
	local, reason := env.LocalBrowser()
	switch {
	case pkce && local:
		return GrantChoice{provider.GrantPKCE, reason}, nil
	case device:
		if !pkce {
			return GrantChoice{provider.GrantDevice, why(provider.GrantPKCE)}, nil
		}
		return GrantChoice{provider.GrantDevice, reason}, nil
	case pkce:
		return GrantChoice{provider.GrantPKCE, reason + ", but " + why(provider.GrantDevice)}, nil
	}
	return GrantChoice{}, fmt.Errorf("login: no interactive grant: %s; %s: %w", why(provider.GrantPKCE), why(provider.GrantDevice), provider.ErrGrantUnsupported)
}
