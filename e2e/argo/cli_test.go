//go:build e2e

package argo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
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

// renderings captures what the real CLI prints for a Rollout at three points of the same
// scenario: v1 healthy, v2 paused at 50%, v2 promoted.
func renderings(t *testing.T, kind controllerKind) []string {
	t.Helper()
	s := newSuite(t, kind)
	s.env.Apply(t, rolloutYAML("cli", "", pauseSteps))
	var v1 string
	s.waitRollout("cli", 90*time.Second, "initial deploy healthy", healthyAt(&v1))
	out := []string{s.settledRender("cli")}
	s.setImage("cli", "v2")
	s.waitRollout("cli", 90*time.Second, "paused at step 1, both ReplicaSets available", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhasePaused && ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == 1 &&
			ro.Status.AvailableReplicas == ro.Status.Replicas
	})
	out = append(out, s.settledRender("cli"))
	s.argoCLI("promote", "cli")
	s.waitRollout("cli", 90*time.Second, "v2 promoted, the old ReplicaSet scaled down", func(ro *v1alpha1.Rollout) bool {
		return healthyAt(nil)(ro) && ro.Status.StableRS != v1 && ro.Status.Replicas == 2
	})
	return append(out, s.settledRender("cli"))
}

// render prints `get rollout` and `list rollouts` with what differs between two runs of the
// same scenario normalised: the namespace, ages (and the column widths they set), pods' random
// name suffixes; pod lines sorted.
func (s *suite) render(name string) string {
	s.t.Helper()
	text := s.argoCLI("get", "rollout", name) + s.argoCLI("list", "rollouts")
	text = strings.ReplaceAll(text, s.ns, "<ns>")
	podName := regexp.MustCompile(`(` + name + `-[a-z0-9]{8,10})-[a-z0-9]{5}\b`)
	text = podName.ReplaceAllString(text, "$1-<pod>")
	age := regexp.MustCompile(`\b\d+(s|m|h|d)(\d+(s|m))?\b`)
	text = age.ReplaceAllString(text, "<age>")
	// Column widths follow the ages' widths: compare cells, not alignment.
	text = regexp.MustCompile(`[ \t]+`).ReplaceAllString(text, " ")
	lines := strings.Split(text, "\n")
	// Pods of one ReplicaSet are listed in name order; with the suffixes gone, sort them (and
	// drop the tree glyph that marks the last one).
	for i := range lines {
		if strings.Contains(lines[i], " Pod ") {
			lines[i] = strings.NewReplacer("├──□", "──□", "└──□", "──□").Replace(lines[i])
		}
	}
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && strings.Contains(lines[j], "Pod ") {
			j++
		}
		sort.Strings(lines[i:j])
		i = j + 1
	}
	return strings.Join(lines, "\n")
}

// settledRender renders once the Rollout's tree has settled: two renders in a row alike,
// nothing terminating or progressing (scale-downs after an abort or a promotion are done).
func (s *suite) settledRender(name string) string {
	s.t.Helper()
	var last string
	framework.Eventually(s.t, 60*time.Second, 500*time.Millisecond, func(context.Context) (bool, error) {
		r := s.render(name)
		settled := r == last && !strings.Contains(r, "Terminating") && !strings.Contains(r, "◌")
		last = r
		return settled, nil
	}, "the CLI rendering of %s to settle (last:\n%s)", name, lazyString{&last})
	return last
}

// lazyString formats a string variable when printed.
type lazyString struct{ s *string }

func (l lazyString) String() string { return *l.s }

// TestArgoCLIRendersNerveAsArgo: the real `kubectl argo rollouts get rollout` and `list
// rollouts` print the same text (namespace, ages and pod suffixes normalised) for the same
// scenario run by Argo's controller and by nerve's loop: v1 healthy, v2 paused at 50%, v2
// promoted — status, message, strategy, step, set/actual weight, images, replicas and the
// revision tree with its ReplicaSets (same pod-template hashes) and pods.
func TestArgoCLIRendersNerveAsArgo(t *testing.T) {
	got := underBoth(t, renderings)
	if t.Failed() {
		return
	}
	for i, what := range []string{"v1 healthy", "v2 paused at 50%", "v2 promoted"} {
		a, n := got[argoController][i], got[nerveController][i]
		if a != n {
			t.Errorf("%s: the CLI renders differently\n--- argo ---\n%s\n--- nerve ---\n%s", what, a, n)
			continue
		}
		t.Logf("%s: identical\n%s", what, a)
	}
}
