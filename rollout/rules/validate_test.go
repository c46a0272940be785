package rules

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// valid returns a valid routed canary; edit changes it.
func valid(edit func(ro *v1alpha1.Rollout)) *v1alpha1.Rollout {
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "r"}}
	ro.Spec.Replicas = ptr.To[int32](4)
	ro.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "r"}}
	ro.Spec.Template.Labels = map[string]string{"app": "r"}
	ro.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Image: "i"}}
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{
		CanaryService: "canary", StableService: "stable",
		TrafficRouting: &v1alpha1.RolloutTrafficRouting{
			Plugins:       map[string]json.RawMessage{"nerve/mllp": json.RawMessage(`{}`)},
			ManagedRoutes: []v1alpha1.MangedRoutes{{Name: "hdr"}},
		},
		Steps: []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](5)}, {Pause: &v1alpha1.RolloutPause{}}},
	}
	if edit != nil {
		edit(ro)
	}
	return ro
}

func env() Env {
	return Env{
		RouterRegistered: func(n string) bool { return n == "nerve/mllp" },
		ServiceExists:    func(n string) bool { return n == "canary" || n == "stable" },
		Analysis: func(path string, ra v1alpha1.RolloutAnalysis) []Finding {
			if ra.Templates[0].TemplateName == "nope" {
				return []Finding{{Path: path, Severity: Error, Type: Invalid, Detail: `AnalysisTemplate "nope": not found`}}
			}
			return nil
		},
	}
}

func TestFirstErrorIsTheControllersMessage(t *testing.T) {
	step := func(s v1alpha1.CanaryStep) func(*v1alpha1.Rollout) {
		return func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.Canary.Steps = append(ro.Spec.Strategy.Canary.Steps, s) }
	}
	tests := []struct {
		name string
		edit func(*v1alpha1.Rollout)
		want string // "" = valid
	}{
		{"valid", nil, ""},
		{"workloadRef", func(ro *v1alpha1.Rollout) { ro.Spec.WorkloadRef = &v1alpha1.ObjectRef{Name: "d"} },
			"spec.workloadRef: Unsupported value: nerve does not support workloadRef yet; put the pod template in spec.template"},
		{"blueGreen valid", blueGreenEdit(nil), ""},
		{"blueGreen no activeService", blueGreenEdit(func(bg *v1alpha1.BlueGreenStrategy) { bg.ActiveService = "" }),
			"spec.strategy.blueGreen.activeService: Required value: Rollout has missing field '.spec.strategy.blueGreen.activeService'"},
		{"blueGreen same services", blueGreenEdit(func(bg *v1alpha1.BlueGreenStrategy) { bg.PreviewService = "stable" }),
			`spec.strategy.activeService: Invalid value: "stable": This rollout uses the same service for the active and preview services, but two different services are required.`},
		{"blueGreen missing preview", blueGreenEdit(func(bg *v1alpha1.BlueGreenStrategy) { bg.PreviewService = "nope" }),
			`spec.strategy.blueGreen.previewService: Invalid value: "nope": services "nope" not found`},
		{"blueGreen missing active", blueGreenEdit(func(bg *v1alpha1.BlueGreenStrategy) { bg.ActiveService = "gone" }),
			`spec.strategy.blueGreen.activeService: Invalid value: "gone": services "gone" not found`},
		{"blueGreen scale-down limit", blueGreenEdit(func(bg *v1alpha1.BlueGreenStrategy) { bg.ScaleDownDelayRevisionLimit = ptr.To[int32](11) }),
			"spec.strategy.scaleDownDelayRevisionLimit: Invalid value: 11: This rollout's revision history limit can not be smaller than the rollout's scale down limit"},
		{"blueGreen antiAffinity both", blueGreenEdit(func(bg *v1alpha1.BlueGreenStrategy) {
			bg.AntiAffinity = &v1alpha1.AntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: &v1alpha1.PreferredDuringSchedulingIgnoredDuringExecution{Weight: 5},
				RequiredDuringSchedulingIgnoredDuringExecution: &v1alpha1.RequiredDuringSchedulingIgnoredDuringExecution{}}
		}), `spec.strategy.antiAffinity: Invalid value: "antiAffinity.PreferredDuringSchedulingIgnoredDuringExecution: true antiAffinity.RequiredDuringSchedulingIgnoredDuringExecution: true": AntiAffinity must have exactly one strategy listed`},
		{"blueGreen antiAffinity weight", blueGreenEdit(func(bg *v1alpha1.BlueGreenStrategy) {
			bg.AntiAffinity = &v1alpha1.AntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: &v1alpha1.PreferredDuringSchedulingIgnoredDuringExecution{Weight: 101}}
		}), "spec.strategy.antiAffinity.weight: Invalid value: 101: AntiAffinity weight must be between 1-100"},
		{"blueGreen bad pre-promotion template", blueGreenEdit(func(bg *v1alpha1.BlueGreenStrategy) {
			bg.PrePromotionAnalysis = &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "nope"}}}
		}), `spec.strategy.blueGreen.prePromotionAnalysis: Invalid value: AnalysisTemplate "nope": not found`},
		{"blueGreen bad post-promotion template", blueGreenEdit(func(bg *v1alpha1.BlueGreenStrategy) {
			bg.PostPromotionAnalysis = &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "nope"}}}
		}), `spec.strategy.blueGreen.postPromotionAnalysis: Invalid value: AnalysisTemplate "nope": not found`},
		{"both strategies", func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.BlueGreen = &v1alpha1.BlueGreenStrategy{} },
			"spec.strategy: Invalid value: canary and blueGreen are both set; choose one"},
		{"no strategy", func(ro *v1alpha1.Rollout) { ro.Spec.Strategy = v1alpha1.RolloutStrategy{} },
			"spec.strategy: Required value: Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'"},
		{"strategy before selector", func(ro *v1alpha1.Rollout) { ro.Spec.Strategy = v1alpha1.RolloutStrategy{}; ro.Spec.Selector = nil },
			"spec.strategy: Required value"},
		{"no selector", func(ro *v1alpha1.Rollout) { ro.Spec.Selector = nil },
			"spec.selector: Required value: Rollout has missing field '.spec.selector'"},
		{"empty selector", func(ro *v1alpha1.Rollout) { ro.Spec.Selector = &metav1.LabelSelector{} },
			"spec.selector: Invalid value: This rollout is selecting all pods. A non-empty selector is required."},
		{"labels mismatch", func(ro *v1alpha1.Rollout) { ro.Spec.Template.Labels = map[string]string{"app": "x"} },
			"spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`"},
		{"no containers", func(ro *v1alpha1.Rollout) { ro.Spec.Template.Spec.Containers = nil },
			"spec.template: Required value: the pod template has no containers"},
		{"max weight", func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.Canary.TrafficRouting.MaxTrafficWeight = ptr.To[int32](0) },
			"spec.strategy.canary.trafficRouting.maxTrafficWeight: Invalid value: must be > 0"},
		{"empty step", step(v1alpha1.CanaryStep{}),
			"spec.strategy.canary.steps[2]: Invalid value: a step must set exactly one of setWeight, pause, analysis, setCanaryScale, setHeaderRoute, setMirrorRoute (found 0: ); unknown step kinds are not supported"},
		{"experiment", step(v1alpha1.CanaryStep{Experiment: &v1alpha1.RolloutExperimentStep{}}),
			"spec.strategy.canary.steps[2].experiment: Unsupported value: nerve has no Experiment controller, so experiment steps are refused; remove the step"},
		{"weight over max", step(v1alpha1.CanaryStep{SetWeight: ptr.To[int32](101)}),
			"spec.strategy.canary.steps[2].setWeight: Invalid value: 101: must be between 0 and maxTrafficWeight (100)"},
		{"bad pause", step(v1alpha1.CanaryStep{Pause: &v1alpha1.RolloutPause{Duration: ptr.To(intstr.FromString("soon"))}}),
			`spec.strategy.canary.steps[2].pause.duration: Invalid value: invalid duration "soon"`},
		{"unmanaged header route", step(v1alpha1.CanaryStep{SetHeaderRoute: &v1alpha1.SetHeaderRoute{Name: "x"}}),
			`spec.strategy.canary.steps[2].setHeaderRoute.name: Invalid value: "x": must be listed in spec.strategy.canary.trafficRouting.managedRoutes`},
		{"starting step", func(ro *v1alpha1.Rollout) {
			ro.Spec.Strategy.Canary.Analysis = &v1alpha1.RolloutAnalysisBackground{StartingStep: ptr.To[int32](3),
				RolloutAnalysis: v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "t"}}}}
		}, "spec.strategy.canary.analysis.startingStep: Invalid value: 3: must be between 0 and the number of steps (2)"},
		{"no router plugins", func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.Canary.TrafficRouting.Plugins = nil },
			"spec.strategy.canary.trafficRouting: Invalid value: nerve routes traffic only through plugins"},
		{"unregistered router", func(ro *v1alpha1.Rollout) {
			ro.Spec.Strategy.Canary.TrafficRouting.Plugins["nerve/other"] = json.RawMessage(`{}`)
		}, `spec.strategy.canary.trafficRouting.plugins.nerve/other: Not found: traffic router plugin "nerve/other" is not registered`},
		{"one service", func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.Canary.StableService = "" },
			"spec.strategy.canary: Invalid value: trafficRouting requires both canaryService and stableService"},
		{"same services", func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.Canary.StableService = "canary" },
			`spec.strategy.canary.stableService: Invalid value: "canary": stableService and canaryService must differ`},
		{"missing service", func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.Canary.CanaryService = "nope" },
			`spec.strategy.canary.canaryService: Invalid value: "nope": service "nope" not found`},
		{"bad template", step(v1alpha1.CanaryStep{Analysis: &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "nope"}}}}),
			`spec.strategy.canary.steps[2].analysis: Invalid value: AnalysisTemplate "nope": not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := FirstError(ValidateRollout(valid(tt.edit), env()))
			switch {
			case tt.want == "" && f != nil:
				t.Fatalf("valid Rollout refused: %s", f)
			case tt.want != "" && f == nil:
				t.Fatalf("want %q, Rollout accepted", tt.want)
			case tt.want != "" && !strings.HasPrefix(f.String(), tt.want):
				t.Fatalf("first error\n got %s\nwant %s", f, tt.want)
			}
		})
	}
}

func TestWarningsNeverStopTheController(t *testing.T) {
	ro := valid(func(ro *v1alpha1.Rollout) {
		ro.Spec.Strategy.Canary.TrafficRouting = nil
		ro.Spec.Strategy.Canary.CanaryService, ro.Spec.Strategy.Canary.StableService = "", ""
		ro.Spec.Strategy.Canary.Steps = []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](5)}}
	})
	fs := ValidateRollout(ro, env())
	if f := FirstError(fs); f != nil {
		t.Fatalf("unexpected error %s", f)
	}
	if len(fs) != 1 || fs[0].Severity != Warning || !strings.Contains(fs[0].Detail, "setWeight 5 with 4 replicas runs 1 canary pod(s), 25% of the pods") {
		t.Fatalf("want the pod-share warning, got %+v", fs)
	}
}

func TestLintSeesEveryFindingWithItsHint(t *testing.T) {
	ro := valid(func(ro *v1alpha1.Rollout) { ro.Spec.Selector = nil; ro.Spec.Template.Spec.Containers = nil })
	fs := ValidateRollout(ro, Env{})
	var got []string
	for _, f := range fs {
		got = append(got, f.Path+": "+f.Explain())
	}
	want := []string{
		"spec.selector: spec.selector is missing: the controller cannot tell which pods and ReplicaSets belong to the Rollout",
		"spec.template: spec.template has no containers: there is nothing to run",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// blueGreenEdit replaces the strategy by a valid blueGreen one (active "stable", preview
// "canary"), then applies edit to it.
func blueGreenEdit(edit func(*v1alpha1.BlueGreenStrategy)) func(*v1alpha1.Rollout) {
	return func(ro *v1alpha1.Rollout) {
		bg := &v1alpha1.BlueGreenStrategy{ActiveService: "stable", PreviewService: "canary"}
		if edit != nil {
			edit(bg)
		}
		ro.Spec.Strategy = v1alpha1.RolloutStrategy{BlueGreen: bg}
	}
}
