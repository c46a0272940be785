//go:build e2e

// Package dashboard holds the e2e tests of `kubectl nerve dashboard`: the built kubectl-nerve
// binary serves the dashboard against the local control plane, a nerve-controller process runs
// a real canary, and headless Chromium (Debian's chromium, driven by chromedp) reads the pages,
// follows live updates, promotes, and is refused where it should be.
package dashboard

import (
	"testing"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
