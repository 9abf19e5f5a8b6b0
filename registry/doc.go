// Package registry turns configuration into drivers: each provider of a
// config file is resolved against the driver catalogue it is given (an
// explicit driver:, then a driver that claims the issuer, then the generic
// oidc driver) and built — in process, as a plugin of the host binary
// (built-in drivers), or from a verified external plugin binary. Open
// reports every problem at once (driver names, options, fixed loopback
// ports) and starts nothing.
//
//	reg, err := registry.Open(f, registry.Options{Drivers: drivers.Builtin})
//
// One forwarding proxy serves plugins and providers configured by resource
// (their issuer is known after RFC 9728 discovery). The plugin supervisor
// verifies each plugin's sha256 on the exact bytes that run (a private
// copy), refuses plugin paths writable by others, gives a plugin no host
// environment beyond an allowlist, checks its answers against the
// configuration, bounds every RPC in time and size, and restarts a crashed
// plugin at the next call. See docs/architecture.md.
package registry
