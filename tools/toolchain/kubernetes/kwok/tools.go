//go:build tools

// Package tools pins kwok's main package for build.sh.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
