//go:build tools

// Package tools pins the Kubernetes main packages that build.sh compiles: the control plane and
// kubectl (the tests and tools/local-cluster.sh use the client of the same release).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
