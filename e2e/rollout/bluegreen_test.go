//go:build e2e

package rollout

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// blueGreenYAML is a 2-replica blueGreen Rollout behind <name>-active and <name>-preview with
// short scale-down delays and extra blueGreen fields.
func blueGreenYAML(name, extra string) string {
	return framework.TestRollout{Name: name, Replicas: 2}.YAML(fmt.Sprintf(`    blueGreen:
      activeService: %[1]s-active
      previewService: %[1]s-preview
      scaleDownDelaySeconds: 2
      abortScaleDownDelaySeconds: 1
`, name) + extra)
}

// gate is a pre- or post-promotion analysis on the test metric plugin.
func gate(when, template string) string {
	return fmt.Sprintf("      %sPromotionAnalysis:\n        templates: [{templateName: %s}]\n        args: [{name: service, value: %s}]\n", when, template, template)
}

// selectorOf reads the rollouts-pod-template-hash a Service selects.
func (s *suite) selectorOf(ctx context.Context, svc string) (string, error) {
	got, err := s.env.Client.CoreV1().Services(s.ns).Get(ctx, svc, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return got.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey], nil
}

// newBlueGreen applies a blueGreen Rollout (and its Services), waits for v1 to be healthy
// behind both Services, then ships v2 and returns both pod hashes.
func (s *suite) newBlueGreen(name, extra string) (v1 string) {
	s.t.Helper()
	s.services(name, name+"-active", name+"-preview")
	s.apply(blueGreenYAML(name, extra))
	s.waitRollout(name, 60*time.Second, "v1 healthy", healthyAt(&v1))
	s.checkSelector(name+"-active", v1)
	s.checkSelector(name+"-preview", v1)
	s.setImage(name, "v2")
	return v1
}

// watchActive records, from a watch, every hash the active Service selected, and fails the test
// if it ever selected a ReplicaSet with fewer available pods than the Rollout's replicas.
func (s *suite) watchActive(name string) func() []string {
	s.t.Helper()
	ctx, cancel := context.WithCancel(s.t.Context())
	w, err := s.env.Client.CoreV1().Services(s.ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name + "-active"})
	if err != nil {
		s.t.Fatal(err)
	}
	var seen []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			svc, ok := ev.Object.(*corev1.Service)
			if !ok {
				continue
			}
			h := svc.Spec.Selector[v1alpha1.DefaultRolloutUniqueLabelKey]
			if h == "" || (len(seen) > 0 && seen[len(seen)-1] == h) {
				continue
			}
			rs, err := s.env.Client.AppsV1().ReplicaSets(s.ns).Get(ctx, name+"-"+h, metav1.GetOptions{})
			if err == nil && rs.Status.AvailableReplicas < 2 {
				s.t.Errorf("active Service switched to %s with %d/2 pods available", h, rs.Status.AvailableReplicas)
			}
			seen = append(seen, h)
		}
	}()
	stop := func() []string { cancel(); w.Stop(); <-done; return seen }
	s.t.Cleanup(func() { stop() })
	return stop
}

// TestBlueGreen runs Argo's blueGreen strategy on nerve's loop against the real control plane:
// auto-promotion, manual promote from BlueGreenPause, a failing prePromotionAnalysis (abort
// before the switch) and a failing postPromotionAnalysis (abort and switch back).
func TestBlueGreen(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.apply(templateYAML("pre-gate", "pre-rate", "result[0] < 1", "", 2, 0))
	s.apply(templateYAML("post-gate", "post-rate", "result[0] < 1", "", 2, 0))
	s.setValue("pre-rate", "5")
	s.setValue("post-rate", "5")

	t.Run("auto-promotion", func(t *testing.T) {
		s := s.sub(t)
		stop := s.watchActive("auto")
		v1 := s.newBlueGreen("auto", "")
		ro := s.waitRollout("auto", 60*time.Second, "v2 promoted, v1 scaled down after scaleDownDelaySeconds", func(ro *v1alpha1.Rollout) bool {
			return healthyAt(nil)(ro) && ro.Status.StableRS != v1 && ro.Status.Replicas == 2
		})
		v2 := ro.Status.StableRS
		s.checkSelector("auto-active", v2)
		s.checkSelector("auto-preview", v2)
		if got := strings.Join(stop(), ","); got != v1+","+v2 {
			t.Errorf("active Service selected %s, want %s,%s", got, v1, v2)
		}
		if ro.Status.BlueGreen.ActiveSelector != v2 || ro.Status.BlueGreen.PreviewSelector != v2 || ro.Status.Selector != "app=auto,rollouts-pod-template-hash="+v2 {
			t.Errorf("status %+v selector %q", ro.Status.BlueGreen, ro.Status.Selector)
		}
	})

	t.Run("manual-promote", func(t *testing.T) {
		s := s.sub(t)
		v1 := s.newBlueGreen("manual", "      autoPromotionEnabled: false\n")
		ro := s.waitRollout("manual", 60*time.Second, "paused with v2 previewed", func(ro *v1alpha1.Rollout) bool {
			return ro.Status.Phase == v1alpha1.RolloutPhasePaused && ro.Status.Message == "BlueGreenPause" && ro.Status.UpdatedReplicas == 2
		})
		v2 := ro.Status.CurrentPodHash
		s.checkSelector("manual-active", v1)
		s.checkSelector("manual-preview", v2)
		if !ro.Status.ControllerPause || ro.Status.StableRS != v1 || ro.Status.BlueGreen.ActiveSelector != v1 || ro.Status.BlueGreen.PreviewSelector != v2 {
			t.Errorf("paused status %+v", ro.Status)
		}
		// still paused a while later: nothing promotes by itself
		time.Sleep(2 * time.Second)
		if ro, err := s.rollout(t.Context(), "manual"); err != nil || ro.Status.Phase != v1alpha1.RolloutPhasePaused {
			t.Fatalf("after 2s: %v %+v", err, ro.Status)
		}
		out := s.nerve("get", "rollout", "manual")
		for _, re := range []string{`(?m)^Strategy:\s+BlueGreen$`, `(?m)^Status:\s+॥ Paused$`, `(?m)^Message:\s+BlueGreenPause$`,
			`(?m)manual-` + v2 + `\s+ReplicaSet\s+✔ Healthy\s+\S+\s+preview$`, `(?m)manual-` + v1 + `\s+ReplicaSet\s+✔ Healthy\s+\S+\s+stable,active$`} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("kubectl nerve get rollout: no match for %s in\n%s", re, out)
			}
		}
		out = s.nerve("promote", "manual")
		if !strings.Contains(out, "ends the pause (BlueGreenPause)") || !strings.Contains(out, "rollout 'manual' promoted") {
			t.Errorf("kubectl nerve promote printed\n%s", out)
		}
		s.waitRollout("manual", 60*time.Second, "v2 promoted by kubectl nerve promote", func(ro *v1alpha1.Rollout) bool {
			return healthyAt(nil)(ro) && ro.Status.StableRS == v2 && !ro.Status.ControllerPause
		})
		s.checkSelector("manual-active", v2)
	})

	t.Run("pre-promotion-failure", func(t *testing.T) {
		s := s.sub(t)
		v1 := s.newBlueGreen("pre", gate("pre", "pre-gate"))
		ro := s.waitRollout("pre", 60*time.Second, "aborted by the pre-promotion analysis", func(ro *v1alpha1.Rollout) bool {
			return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
		})
		want := "RolloutAborted: Rollout aborted update to revision 2: Blue/green pre-promotion analysis phase error/failed: "
		if !strings.HasPrefix(ro.Status.Message, want) {
			t.Errorf("message %q, want prefix %q", ro.Status.Message, want)
		}
		if r := ro.Status.BlueGreen.PrePromotionAnalysisRunStatus; r == nil || r.Status != v1alpha1.AnalysisPhaseFailed || r.Name != "pre-"+ro.Status.CurrentPodHash+"-2-pre" {
			t.Errorf("pre-promotion run status %+v", r)
		}
		s.checkSelector("pre-active", v1)
		s.waitRollout("pre", 30*time.Second, "v2 scaled down after abortScaleDownDelaySeconds", func(ro *v1alpha1.Rollout) bool {
			return ro.Status.UpdatedReplicas == 0 && ro.Status.StableRS == v1
		})
	})

	t.Run("post-promotion-failure", func(t *testing.T) {
		s := s.sub(t)
		stop := s.watchActive("post")
		v1 := s.newBlueGreen("post", gate("post", "post-gate"))
		ro := s.waitRollout("post", 60*time.Second, "aborted by the post-promotion analysis", func(ro *v1alpha1.Rollout) bool {
			return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
		})
		v2 := ro.Status.CurrentPodHash
		want := "RolloutAborted: Rollout aborted update to revision 2: Blue/green post-promotion analysis phase error/failed: "
		if !strings.HasPrefix(ro.Status.Message, want) {
			t.Errorf("message %q, want prefix %q", ro.Status.Message, want)
		}
		s.waitRollout("post", 30*time.Second, "active back on v1, v2 scaled down", func(ro *v1alpha1.Rollout) bool {
			return ro.Status.BlueGreen.ActiveSelector == v1 && ro.Status.UpdatedReplicas == 0 && ro.Status.StableRS == v1
		})
		s.checkSelector("post-active", v1)
		if got := strings.Join(stop(), ","); got != v1+","+v2+","+v1 {
			t.Errorf("active Service selected %s, want %s,%s,%s (switched to v2 for the analysis, back on abort)", got, v1, v2, v1)
		}
	})
}

// nerve runs kubectl-nerve against the suite's namespace and returns its output.
func (s *suite) nerve(args ...string) string {
	s.t.Helper()
	args = append(args, "--kubeconfig", os.Getenv(framework.EnvKubeconfig), "-n", s.ns)
	r := framework.RunCommand(exec.Command(framework.Binary(s.t, "kubectl-nerve"), args...))
	if r.Code != 0 {
		s.t.Fatalf("kubectl-nerve %v: exit %d\n%s%s", args, r.Code, r.Out, r.Err)
	}
	return r.Out
}

// sub is s for a subtest: failures go to t.
func (s *suite) sub(t *testing.T) *suite {
	c := *s
	c.t = t
	return &c
}
