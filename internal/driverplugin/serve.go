package driverplugin

import (
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/mcpauth/mcpauth/provider"
)

// parentPoll is how often a plugin checks that its host is still alive.
const parentPoll = 500 * time.Millisecond

// windowSize is the HTTP/2 stream and connection flow-control window on
// both ends of the plugin connection. Setting it turns off gRPC's
// bandwidth-delay probing, which answers received data with a PING and so
// adds a round of wake-ups in both processes to calls whose messages are a
// few KiB; the window is far above MaxMessageSize's typical message and
// gRPC's 64 KiB default.
const windowSize = 1 << 20

// Serve runs a driver plugin process: it detaches stdin (go-plugin hands a
// plugin the host's stdin, which may carry JSON-RPC), starts the parent
// watchdog, sends logs to stderr as JSON the host re-emits at their level,
// and serves the driver protocol until the host kills it. It never returns.
func Serve(factory provider.DriverFactory) {
	detachStdin()
	// One driver call at a time is the norm (a poll, a refresh): with a
	// single P, gRPC's hand-offs between its reader, handler and writer
	// goroutines stay on one thread instead of waking others, which is
	// most of a call's latency on a small machine.
	runtime.GOMAXPROCS(1)
	go watchParent(os.Getppid(), parentPoll)
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{ReplaceAttr: hclogKeys})))
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: Plugins(NewServer(factory)),
		GRPCServer:       boundedGRPCServer,
		TLSProvider:      serverTLS,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "driver", Output: os.Stderr, JSONFormat: true, Level: hclog.Info,
		}),
	})
	os.Exit(0)
}

// boundedGRPCServer is go-plugin's server with the protocol's message
// bound both ways (gRPC's default send limit is 2 GiB, and a driver that
// builds a huge answer should fail in the plugin, not in the host), a
// fixed flow-control window (windowSize), and a worker goroutine kept for
// calls rather than one started per call.
func boundedGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return plugin.DefaultGRPCServer(append(opts, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.InitialWindowSize(windowSize), grpc.InitialConnWindowSize(windowSize), grpc.NumStreamWorkers(1)))
}

// DialOptions are the host's gRPC options for a plugin connection: the
// protocol's message bound (go-plugin raises gRPC's to 2 GiB, and a
// plugin's answer must not make the host buffer that much) and the same
// fixed window as the plugin's side.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
		grpc.WithInitialWindowSize(windowSize), grpc.WithInitialConnWindowSize(windowSize),
	}
}

// watchParent exits when the host is gone: go-plugin leaves orphans when a
// host is SIGKILLed (they are reparented), so the plugin checks itself.
func watchParent(ppid int, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != ppid {
			os.Exit(3)
		}
	}
}

// hclogKeys renames slog's JSON keys to hclog's, so the host's go-plugin
// client parses plugin log lines and re-emits them at their level.
func hclogKeys(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		a.Key = "@timestamp"
	case slog.LevelKey:
		a.Key = "@level"
		a.Value = slog.StringValue(map[string]string{"DEBUG": "debug", "INFO": "info", "WARN": "warn", "ERROR": "error"}[a.Value.String()])
	case slog.MessageKey:
		a.Key = "@message"
	}
	return a
}
