//go:build tools

// Package tools pins the main packages this wrapper builds (never compiled: the build tag keeps
// it out; `go mod tidy` still counts its imports).
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
