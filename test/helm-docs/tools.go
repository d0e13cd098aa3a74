//go:build tools

// Package tools pins helm-docs, which generates charts/scim-token-operator/README.md from the chart's
// values.yaml comments. It lives apart from ../helm so that its Helm v3 library does not move the
// dependencies of the Helm binary the tests run.
package tools

import _ "github.com/norwoodj/helm-docs/cmd/helm-docs"
