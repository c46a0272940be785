//go:build e2e

package argo

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// blueGreenCase is one blueGreen scenario: how it is promoted, which analysis gates it (on the
// prom-gate template at value), and how it ends.
type blueGreenCase struct {
	analysisCase
	manual bool   // autoPromotionEnabled: false, then `kubectl argo rollouts promote`
	when   string // "pre" or "post": the promotion analysis that reads prom-gate; "" = none
}

func blueGreenCases() []blueGreenCase {
	healthy, degraded := v1alpha1.RolloutPhaseHealthy, v1alpha1.RolloutPhaseDegraded
	return []blueGreenCase{
		{analysisCase: analysisCase{name: "auto-promotion", phase: healthy}},
		{analysisCase: analysisCase{name: "manual-promote", phase: healthy}, manual: true},
		{analysisCase: analysisCase{name: "pre-promotion-failure", value: 0.02, runPhase: v1alpha1.AnalysisPhaseFailed, phase: degraded, abort: true}, when: "pre"},
		{analysisCase: analysisCase{name: "post-promotion-failure", value: 0.02, runPhase: v1alpha1.AnalysisPhaseFailed, phase: degraded, abort: true}, when: "post"},
	}
}

// blueGreenYAML is a 2-replica blueGreen Rollout behind bg-active and bg-preview.
func blueGreenYAML(extra string) string {
	return podRollout("bg").YAML(`    blueGreen:
      activeService: bg-active
      previewService: bg-preview
      scaleDownDelaySeconds: 3
      abortScaleDownDelaySeconds: 1
` + extra)
}

// blueGreenServices creates bg-active and bg-preview (the controller adds the pod hash).
func (s *suite) blueGreenServices() {
	s.t.Helper()
	for _, role := range []string{"active", "preview"} {
		s.env.Apply(s.t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: bg-%[1]s}
spec:
  selector: {app: bg}
  ports: [{name: mllp, port: %[2]d, targetPort: %[2]d}]
`, role, podPort))
	}
}

// selectors names the pod hash each Service selects as v1/v2.
func (s *suite) selectors(ctx context.Context, v1, v2 string) ([]string, error) {
	var out []string
	for _, svc := range []string{"bg-active", "bg-preview"} {
		got, err := s.env.Client.CoreV1().Services(s.ns).Get(ctx, svc, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		h := got.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey]
		switch h {
		case v1:
			h = "v1"
		case v2:
			h = "v2"
		}
		out = append(out, svc+"="+h)
	}
	return out, nil
}

// runBlueGreen deploys v1, ships v2 and drives the case to its end under one controller,
// rendering `kubectl argo rollouts get rollout` at v1 healthy, (manual) v2 paused in preview, and
// the end once the losing ReplicaSet is scaled down.
func runBlueGreen(t *testing.T, kind controllerKind, c blueGreenCase) outcome {
	t.Helper()
	s := newSuite(t, kind)
	s.blueGreenServices()
	extra := ""
	if c.manual {
		extra += "      autoPromotionEnabled: false\n"
	}
	if c.when != "" {
		s.gate(c.value)
		extra += fmt.Sprintf("      %sPromotionAnalysis:\n        templates: [{templateName: prom-gate}]\n", c.when)
	}
	s.env.Apply(t, blueGreenYAML(extra))
	var v1 string
	s.waitRollout("bg", 90*time.Second, "v1 healthy", healthyAt(&v1))
	o := outcome{Renders: []string{s.settledRender("bg")}}
	s.setImage("bg", "v2")
	if c.manual {
		s.waitRollout("bg", 90*time.Second, "v2 previewed, paused", func(ro *v1alpha1.Rollout) bool {
			return ro.Status.Phase == v1alpha1.RolloutPhasePaused && ro.Status.UpdatedReplicas == 2 && ro.Status.BlueGreen.PreviewSelector == ro.Status.CurrentPodHash
		})
		o.Renders = append(o.Renders, s.settledRender("bg"))
		s.argoCLI("promote", "bg")
	}
	ro := s.waitRollout("bg", 90*time.Second, "promoted or aborted", func(ro *v1alpha1.Rollout) bool {
		if c.abort {
			return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded && ro.Status.BlueGreen.ActiveSelector == v1
		}
		return healthyAt(nil)(ro) && ro.Status.StableRS != v1
	})
	v2 := ro.Status.CurrentPodHash
	ro = s.waitRollout("bg", 60*time.Second, "the losing ReplicaSet scaled down", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Replicas == 2 && ro.Status.AvailableReplicas == 2
	})
	o.Renders = append(o.Renders, s.settledRender("bg"))
	o.Phase, o.Abort, o.Promoted, o.Message = ro.Status.Phase, ro.Status.Abort, ro.Status.StableRS != v1, s.normalize(ro.Status.Message)
	sel, err := s.selectors(t.Context(), v1, v2)
	if err != nil {
		t.Fatal(err)
	}
	o.Values = append(sel, fmt.Sprintf("replicas=%d/%d/%d/%d", ro.Status.Replicas, ro.Status.UpdatedReplicas, ro.Status.ReadyReplicas, ro.Status.AvailableReplicas),
		"status.blueGreen="+statusSelectors(ro, v1, v2), "paused="+fmt.Sprint(ro.Status.ControllerPause, len(ro.Status.PauseConditions)))
	if c.when != "" {
		run := s.waitRun(30 * time.Second)
		o.RunPhase = run.Status.Phase
		o.Values = append(o.Values, "run="+strings.Replace(run.Name, v2, "<v2>", 1))
		for _, mr := range run.Status.MetricResults {
			o.MetricMsg = s.normalize(mr.Message)
			for _, m := range mr.Measurements {
				o.Values = append(o.Values, fmt.Sprintf("%s:%s", m.Phase, m.Value))
			}
		}
	}
	return o
}

func statusSelectors(ro *v1alpha1.Rollout, v1, v2 string) string {
	name := strings.NewReplacer(v1, "v1", v2, "v2")
	return name.Replace(ro.Status.BlueGreen.ActiveSelector) + "/" + name.Replace(ro.Status.BlueGreen.PreviewSelector) + "/" + name.Replace(ro.Status.StableRS)
}

// TestBlueGreenArgoVsNerve: the blueGreen strategy under the real Argo controller (on nerve's
// CRDs) and under nerve's loop — auto-promotion, manual promote with the real
// `kubectl argo rollouts promote`, a failing prePromotionAnalysis (abort before the switch) and a
// failing postPromotionAnalysis (abort, active Service back to v1), analysis on real Prometheus —
// ends with the same phase, message, Service selectors, replica counts, run and metric results,
// and the same `kubectl argo rollouts get rollout` / `list rollouts` renderings at each checkpoint.
func TestBlueGreenArgoVsNerve(t *testing.T) {
	cases := blueGreenCases()
	byName := map[string]blueGreenCase{}
	plain := make([]analysisCase, 0, len(cases))
	for _, c := range cases {
		byName[c.name] = c
		plain = append(plain, c.analysisCase)
	}
	compareOutcomes(t, false, plain, func(t *testing.T, kind controllerKind, c analysisCase) outcome {
		return runBlueGreen(t, kind, byName[c.name])
	})
}
