// Command bare is the baseline of a plugin's size: a hashicorp/go-plugin
// gRPC plugin serving nothing, which every driver plugin links.
package main

import "github.com/hashicorp/go-plugin"

func main() {
	plugin.Serve(&plugin.ServeConfig{GRPCServer: plugin.DefaultGRPCServer})
}
