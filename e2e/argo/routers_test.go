//go:build e2e

package argo

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// routedSteps: 25% and an indefinite pause (the test looks at the route and the traffic, then
// promotes with the real `kubectl argo rollouts promote`), the prom-gate analysis, 50% and a
// 1s pause.
const routedSteps = `      - setWeight: 25
      - pause: {}
      - analysis:
          templates: [{templateName: prom-gate}]
      - setWeight: 50
      - pause: {duration: 1s}
`

// routedRolloutYAML is the 2-replica canary of rolloutYAML whose traffic a router plugin shifts
// through routedSteps.
func routedRolloutYAML(name, plugin, config string) string {
	return rolloutYAML(name, fmt.Sprintf(`      stableService: %[1]s-stable
      canaryService: %[1]s-canary
      scaleDownDelaySeconds: 2
      trafficRouting:
        plugins:
          %[2]s: %[3]s
`, name, plugin, config), routedSteps)
}

// podPort is the pods' (and Services') MLLP port.
const podPort = 2575

// services creates the stable and canary Services of app (the controller adds the pod hash to
// their selectors).
func (s *suite) services(app string) {
	s.t.Helper()
	for _, role := range []string{"stable", "canary"} {
		s.env.Apply(s.t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[1]s-%[2]s}
spec:
  selector: {app: %[1]s}
  ports: [{name: mllp, port: %[3]d, targetPort: %[3]d}]
`, app, role, podPort))
	}
}

// gate serves a gauge at value to Prometheus (as its own scrape job), waits until Prometheus
// has it and applies the prom-gate template that reads it.
func (s *suite) gate(value float64) {
	s.t.Helper()
	g, query := framework.StartGaugeTarget(s.t, "nerve_e2e_argo_gate", "nerve-e2e-argo-"+s.ns)
	g.Set(value)
	framework.WaitForPromValue(s.t, query, value)
	s.env.Apply(s.t, templateYAML(framework.PrometheusURL(s.t), query))
}

// weightLog records every distinct canary weight a route takes, in order, from a watch.
type weightLog struct {
	mu  sync.Mutex
	seq []int32
}

func (w *weightLog) add(v int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.seq); n == 0 || w.seq[n-1] != v {
		w.seq = append(w.seq, v)
	}
}

func (w *weightLog) get() []int32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int32(nil), w.seq...)
}

func (w *weightLog) String() string { return fmt.Sprint(w.get()) }

// recordWeights watches the named route until the test ends and logs the canary weight that
// weight reads from each version of it.
func (s *suite) recordWeights(ri dynamic.ResourceInterface, name string, weight func(*unstructured.Unstructured) (int32, error)) *weightLog {
	s.t.Helper()
	log := &weightLog{}
	framework.WatchNamed(s.t, ri, name, func(_ context.Context, u *unstructured.Unstructured) {
		if v, err := weight(u); err == nil {
			log.add(v)
		}
	})
	return log
}

// routedHooks let a router scenario look at its data plane.
type routedHooks struct {
	// atStart runs once v1 is healthy, before the update.
	atStart func()
	// atPause runs while the update is paused at 25% (before the promote).
	atPause func(ro *v1alpha1.Rollout)
	// atEnd runs once the update ended and the route is back at 0, with the pod-template hash
	// that lost: the old stable after a promotion, the canary after an abort.
	atEnd func(loser string)
}

// runRouted deploys v1 of a routed Rollout (applied by the caller), updates it to v2, checks the
// pause at 25%, promotes with the real Argo CLI and waits for the analysis outcome and for the
// route to return to 0; it returns what was observed, weights included.
func (s *suite) runRouted(name string, c analysisCase, weights *weightLog, hooks routedHooks) outcome {
	s.t.Helper()
	lap := laps(s.t)
	defer lap("done")
	var v1 string
	s.waitRollout(name, 90*time.Second, "initial deploy healthy", healthyAt(&v1))
	lap("v1 healthy")
	if hooks.atStart != nil {
		hooks.atStart()
		lap("start hook")
	}
	s.setImage(name, "v2")
	ro := s.waitRollout(name, 90*time.Second, "paused at 25%", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhasePaused && ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == 1
	})
	if w := weights.get(); len(w) == 0 || w[len(w)-1] != 25 {
		s.t.Fatalf("paused at 25%%, but the route's canary weights were %v", w)
	}
	canaryHash := ro.Status.CurrentPodHash
	pauseRender := s.settledRender(name)
	lap("paused at 25%")
	if hooks.atPause != nil {
		hooks.atPause(ro)
		lap("pause hook")
	}
	s.argoCLI("promote", name)
	o := s.analysisOutcome(name, v1, c)
	lap("analysis outcome")
	framework.Eventually(s.t, 30*time.Second, 100*time.Millisecond, func(context.Context) (bool, error) {
		w := weights.get()
		return len(w) > 0 && w[len(w)-1] == 0, nil
	}, "route back at canary weight 0 (weights %s)", weights)
	lap("route back at 0")
	if hooks.atEnd != nil {
		loser := canaryHash
		if o.Promoted {
			loser = v1
		}
		hooks.atEnd(loser)
		lap("end hook")
	}
	for _, w := range weights.get() {
		o.Weights = append(o.Weights, fmt.Sprint(w))
	}
	o.Renders = append([]string{pauseRender}, o.Renders...)
	return o
}

// laps returns a function that records how long each phase took and logs them all at "done".
func laps(t *testing.T) func(string) {
	last := time.Now()
	var b strings.Builder
	return func(phase string) {
		if phase == "done" {
			t.Logf("phases:%s", b.String())
			return
		}
		fmt.Fprintf(&b, " %s %.1fs;", phase, time.Since(last).Seconds())
		last = time.Now()
	}
}

// compareOutcomes runs each case under both controllers (separate namespaces; in parallel unless
// serial) and requires the same observable outcome: phases, abort, promotion, messages, route
// weights and CLI renderings.
func compareOutcomes(t *testing.T, serial bool, cases []analysisCase, run func(t *testing.T, kind controllerKind, c analysisCase) outcome) {
	t.Helper()
	var mu sync.Mutex
	got := map[string]outcome{}
	t.Run("group", func(t *testing.T) {
		for _, c := range cases {
			for _, kind := range []controllerKind{argoController, nerveController} {
				t.Run(c.name+"/"+string(kind), func(t *testing.T) {
					if !serial {
						t.Parallel()
					}
					o := run(t, kind, c)
					t.Logf("%s/%s: %s", kind, c.name, o)
					if o.RunPhase != c.runPhase || o.Phase != c.phase || o.Abort != c.abort {
						t.Errorf("%s/%s: got run=%s phase=%s abort=%v, want run=%s phase=%s abort=%v",
							kind, c.name, o.RunPhase, o.Phase, o.Abort, c.runPhase, c.phase, c.abort)
					}
					mu.Lock()
					got[c.name+"/"+string(kind)] = o
					mu.Unlock()
				})
			}
		}
	})
	if t.Failed() {
		return
	}
	for _, c := range cases {
		a, n := got[c.name+"/"+string(argoController)], got[c.name+"/"+string(nerveController)]
		if a.String() != n.String() {
			t.Errorf("%s: outcomes differ:\n argo:  %s\n nerve: %s", c.name, a, n)
		}
		if len(a.Renders) != len(n.Renders) {
			t.Errorf("%s: %d CLI renderings under argo, %d under nerve", c.name, len(a.Renders), len(n.Renders))
			continue
		}
		for i := range a.Renders {
			if a.Renders[i] != n.Renders[i] {
				t.Errorf("%s: the CLI renders checkpoint %d differently\n--- argo ---\n%s\n--- nerve ---\n%s", c.name, i, a.Renders[i], n.Renders[i])
			}
		}
		t.Logf("%s: the CLI renders all %d checkpoints identically; the last:\n%s", c.name, len(a.Renders), a.Renders[len(a.Renders)-1])
	}
}

// gateCases: a good gauge promotes, a bad one aborts.
func gateCases() []analysisCase {
	return []analysisCase{
		{name: "good", value: 0.002, runPhase: v1alpha1.AnalysisPhaseSuccessful, phase: v1alpha1.RolloutPhaseHealthy},
		{name: "bad", value: 0.02, runPhase: v1alpha1.AnalysisPhaseFailed, phase: v1alpha1.RolloutPhaseDegraded, abort: true},
	}
}

// joinWeights formats a weight sequence.
func joinWeights(ws []string) string { return "[" + strings.Join(ws, " ") + "]" }
