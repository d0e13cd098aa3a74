//go:build tools

// Package tools pins actionlint, which checks .github/workflows in CI (.ci/run): the release
// workflow cannot run here (it needs Docker and a registry), so it is at least linted.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
