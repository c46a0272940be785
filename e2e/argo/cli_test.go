//go:build e2e

package argo

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// pauseSteps: 50% then an indefinite pause.
const pauseSteps = `      - setWeight: 50
      - pause: {}
`

// argoCLI runs the real kubectl-argo-rollouts against the suite namespace.
func (s *suite) argoCLI(args ...string) string {
	s.t.Helper()
	args = append(args, "--kubeconfig", os.Getenv("KUBECONFIG"), "-n", s.ns)
	cmd := exec.Command(filepath.Join(argoDir, "kubectl-argo-rollouts"), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("kubectl-argo-rollouts %v: %v\n%s", args, err, out)
	}
	// strip the colour escapes the CLI prints
	return regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(string(out), "")
}

// expectLines requires each regexp to match a line of out.
func expectLines(t *testing.T, what, out string, res ...string) {
	t.Helper()
	for _, re := range res {
		if !regexp.MustCompile(`(?m)` + re).MatchString(out) {
			t.Errorf("%s: no line matches %q in:\n%s", what, re, out)
		}
	}
}

// TestArgoCLIOnNerveLoop: Rollouts run by nerve's loop are rendered by the real
// `kubectl argo rollouts get rollout` / `list rollouts`, and its promote, abort and retry
// drive nerve's loop.
func TestArgoCLIOnNerveLoop(t *testing.T) {
	s := newSuite(t, nerveController)
	s.env.Apply(t, rolloutYAML("cli", "", pauseSteps))
	var v1 string
	s.waitRollout("cli", 90*time.Second, "initial deploy healthy", healthyAt(&v1))
	out := s.argoCLI("get", "rollout", "cli")
	expectLines(t, "get (healthy v1)", out,
		`^Name:\s+cli\s*$`, `^Status:\s+✔ Healthy\s*$`, `^Strategy:\s+Canary\s*$`, `^\s+Step:\s+2/2\s*$`,
		`^\s+SetWeight:\s+100\s*$`, `^\s+ActualWeight:\s+100\s*$`, `^⟳ cli\s+Rollout\s+✔ Healthy`,
		`^└──# revision:1\s*$`, `ReplicaSet\s+✔ Healthy .*stable`)

	s.setImage("cli", "v2")
	s.waitRollout("cli", 90*time.Second, "paused at step 1", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhasePaused && ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == 1
	})
	out = s.argoCLI("get", "rollout", "cli")
	expectLines(t, "get (paused v2)", out,
		`^Status:\s+॥ Paused\s*$`, `^Message:\s+CanaryPauseStep\s*$`, `^\s+Step:\s+1/2\s*$`,
		`^\s+SetWeight:\s+50\s*$`, `^\s+ActualWeight:\s+50\s*$`,
		`^├──# revision:2\s*$`, `^└──# revision:1\s*$`, `ReplicaSet\s+✔ Healthy .*canary`, `ReplicaSet\s+✔ Healthy .*stable`)
	out = s.argoCLI("list", "rollouts")
	expectLines(t, "list rollouts", out,
		`^NAME\s+STRATEGY\s+STATUS\s+STEP\s+SET-WEIGHT\s+READY\s+DESIRED\s+UP-TO-DATE\s+AVAILABLE\s*$`,
		`^cli\s+Canary\s+Paused\s+1/2\s+50\s+2/2\s+2\s+1\s+2\s*\s*$`)

	s.argoCLI("promote", "cli")
	var v2 string
	s.waitRollout("cli", 90*time.Second, "v2 promoted by kubectl argo rollouts promote", func(ro *v1alpha1.Rollout) bool {
		return healthyAt(&v2)(ro) && ro.Status.StableRS != v1
	})

	s.setImage("cli", "v3")
	s.waitRollout("cli", 90*time.Second, "v3 paused at step 1", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhasePaused && ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == 1
	})
	s.argoCLI("abort", "cli")
	s.waitRollout("cli", 90*time.Second, "aborted by kubectl argo rollouts abort", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded && ro.Status.StableRS == v2
	})
	out = s.argoCLI("get", "rollout", "cli")
	expectLines(t, "get (aborted)", out, `^Status:\s+✖ Degraded\s*$`, `^Message:\s+RolloutAborted: `)

	s.argoCLI("retry", "rollout", "cli")
	s.waitRollout("cli", 90*time.Second, "retried to the pause by kubectl argo rollouts retry", func(ro *v1alpha1.Rollout) bool {
		return !ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhasePaused && ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == 1
	})
	s.argoCLI("promote", "cli")
	s.waitRollout("cli", 90*time.Second, "v3 promoted", func(ro *v1alpha1.Rollout) bool {
		return healthyAt(nil)(ro) && ro.Status.StableRS != v2
	})
}
