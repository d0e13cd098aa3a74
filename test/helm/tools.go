//go:build tools

// Package tools pins Helm for the chart tests. It lives apart from ../controlplane so that
// module's Kubernetes staging replaces do not force Helm onto another client-go.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
