package config

import _ "embed"

// Example is a commented example config file, valid as it is: what
// `mcpauth config init` writes.
//
//go:embed example.yaml
var Example []byte

// Schema is the JSON Schema (draft-07) of the config file, for editors
// (yaml-language-server reads it from a "# yaml-language-server: $schema=…"
// comment). Validation in Go is stricter: it also refuses duplicate names,
// plugin paths outside plugin_dir and a zero login_timeout.
//
//go:embed mcpauth.schema.json
var Schema []byte
