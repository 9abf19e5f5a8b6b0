// Command faultyplugin is a driver plugin that misbehaves on purpose, for
// registry's plugin faults suite. FAULTY_MODE picks the fault:
//
//	crash:RPC  os.Exit(2) inside RPC (Configure, Metadata, StartDevice, ...)
//	hang:RPC   never answer RPC
//	huge       answer Metadata with a 10 MiB scope
//	huge-unbounded  the same, served without the SDK's message bound
//	fork       start children that keep running (and hold its stdout)
//	garbage    print a malformed go-plugin handshake line
//	silent     print nothing and exit
//
// With FAULTY_ONCE set to a file name, the fault happens only while that
// file does not exist (the faulty process creates it), so the restarted
// plugin behaves. FAULTY_PIDS names a file the fork mode writes its
// children's PIDs to.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/mcpauth/mcpauth/internal/driverplugin"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/sdk/driver"
)

var mode = os.Getenv("FAULTY_MODE")

// fault reports whether the fault of kind at rpc happens now.
func fault(kind, rpc string) bool {
	if mode != kind+":"+rpc && mode != kind {
		return false
	}
	if once := os.Getenv("FAULTY_ONCE"); once != "" {
		if _, err := os.Stat(once); err == nil {
			return false
		}
		if err := os.WriteFile(once, nil, 0o600); err != nil {
			return false
		}
	}
	return true
}

// at misbehaves as configured for rpc, if at all.
func at(rpc string) {
	if fault("crash", rpc) {
		os.Exit(2)
	}
	if fault("hang", rpc) {
		time.Sleep(time.Hour)
	}
}

type faulty struct{ cfg provider.DriverConfig }

func (d *faulty) Describe() provider.Description {
	return provider.Description{Name: "faulty", Version: "1", ClientID: d.cfg.ClientID,
		Grants: []provider.Grant{provider.GrantDevice, provider.GrantPKCE}}
}

func (d *faulty) Metadata(context.Context) (*provider.AuthServerMetadata, error) {
	at("Metadata")
	m := &provider.AuthServerMetadata{Issuer: d.cfg.Issuer, AuthorizationEndpoint: d.cfg.Issuer + "/authorize",
		TokenEndpoint: d.cfg.Issuer + "/token", DeviceAuthorizationEndpoint: d.cfg.Issuer + "/device"}
	if strings.HasPrefix(mode, "huge") {
		m.ScopesSupported = []string{strings.Repeat("s", 10<<20)}
	}
	return m, nil
}

func (d *faulty) StartDevice(context.Context, []string) (*provider.DeviceAuthorization, error) {
	at("StartDevice")
	return &provider.DeviceAuthorization{DeviceCode: "dc", UserCode: "UC", VerificationURI: d.cfg.Issuer + "/device",
		ExpiresAt: time.Now().Add(time.Minute), Interval: time.Second}, nil
}

func (d *faulty) PollDevice(context.Context, *provider.DeviceAuthorization) (*provider.Token, error) {
	at("PollDevice")
	return &provider.Token{AccessToken: "at", TokenType: "Bearer"}, nil
}

func (d *faulty) AuthCodeURL(context.Context, provider.AuthCodeRequest) (string, error) {
	at("AuthCodeURL")
	return d.cfg.Issuer + "/authorize?client_id=" + d.cfg.ClientID, nil
}

func (d *faulty) Exchange(context.Context, string, string, string) (*provider.Token, error) {
	at("Exchange")
	return &provider.Token{AccessToken: "at", TokenType: "Bearer"}, nil
}

func (d *faulty) Refresh(context.Context, *provider.Token) (*provider.Token, error) {
	at("Refresh")
	return &provider.Token{AccessToken: "at2", TokenType: "Bearer"}, nil
}

func (d *faulty) Challenge(resp provider.APIResponse) (*provider.ScopeChallenge, bool) {
	at("Challenge")
	return &provider.ScopeChallenge{Scopes: []string{"more"}}, resp.StatusCode == 403
}

func (d *faulty) Identity(context.Context, *provider.Token) (*provider.Identity, error) {
	at("Identity")
	return &provider.Identity{Subject: "sub"}, nil
}

func factory(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
	at("Configure")
	if mode == "fork" {
		// A child and a grandchild that outlive this process unless the
		// host kills the whole process group. Both hold the stderr pipe
		// go-plugin reads (fd 2: go-plugin's Serve swaps only the os.Stderr
		// variable), as a careless helper process would, which keeps the
		// host's go-plugin Kill waiting for the pipe to close.
		child := exec.Command("/bin/sh", "-c", "sleep 300 & echo $! >>\"$FAULTY_PIDS\"; exec sleep 300")
		fd2 := os.NewFile(2, "stderr")
		child.Stdout, child.Stderr = fd2, fd2
		if err := child.Start(); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(os.Getenv("FAULTY_PIDS"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(f, child.Process.Pid)
		f.Close()
	}
	return &faulty{cfg: cfg}, nil
}

func main() {
	switch mode {
	case "garbage":
		fmt.Println("1|1|carrier-pigeon|nowhere|grpc|")
		time.Sleep(time.Minute)
		os.Exit(1)
	case "silent":
		os.Exit(0)
	case "huge-unbounded":
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  driverplugin.Handshake,
			VersionedPlugins: driverplugin.Plugins(driverplugin.NewServer(factory)),
			GRPCServer:       plugin.DefaultGRPCServer,
		})
		os.Exit(0)
	}
	driver.Serve(factory)
}
