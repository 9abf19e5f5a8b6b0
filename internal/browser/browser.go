// Package browser opens a URL in the user's web browser.
package browser

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
)

// Open starts the platform's URL opener (xdg-open, open, rundll32) and does
// not wait for the browser. The opener's output is discarded: stdout may
// belong to JSON-RPC.
func Open(ctx context.Context, url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "open", url)
	case "windows":
		cmd = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.CommandContext(ctx, "xdg-open", url)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("browser: %w", err)
	}
	go cmd.Wait()
	return nil
}
