//go:build e2e

package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

func TestStartProcessCapturesOutputAndStops(t *testing.T) {
	port := framework.FreePort(t)
	if port <= 0 {
		t.Fatalf("FreePort = %d", port)
	}
	p := framework.StartProcess(t, "/bin/sh", []string{"-c", "echo hello-$GREETING; exec sleep 60"}, []string{"GREETING=e2e"})
	framework.Eventually(t, 10*time.Second, 20*time.Millisecond, func(context.Context) (bool, error) {
		return strings.Contains(p.Output(), "hello-e2e"), nil
	}, "process output")
	if p.Exited() {
		t.Fatal("process exited early")
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !p.Exited() {
		t.Fatal("process still running after Stop")
	}
}
