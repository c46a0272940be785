package rules

import (
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func TestUnsupportedFieldsAreRefusedByPath(t *testing.T) {
	tr := func(set func(*v1alpha1.RolloutTrafficRouting)) func(*v1alpha1.Rollout) {
		return func(ro *v1alpha1.Rollout) { set(ro.Spec.Strategy.Canary.TrafficRouting) }
	}
	for _, c := range []struct {
		path string
		edit func(*v1alpha1.Rollout)
	}{
		{"spec.strategy.canary.trafficRouting.istio", tr(func(r *v1alpha1.RolloutTrafficRouting) { r.Istio = &v1alpha1.IstioTrafficRouting{} })},
		{"spec.strategy.canary.trafficRouting.nginx", tr(func(r *v1alpha1.RolloutTrafficRouting) { r.Nginx = &v1alpha1.NginxTrafficRouting{} })},
		{"spec.strategy.canary.trafficRouting.alb", tr(func(r *v1alpha1.RolloutTrafficRouting) { r.ALB = &v1alpha1.ALBTrafficRouting{} })},
		{"spec.strategy.canary.trafficRouting.smi", tr(func(r *v1alpha1.RolloutTrafficRouting) { r.SMI = &v1alpha1.SMITrafficRouting{} })},
		{"spec.strategy.canary.trafficRouting.ambassador", tr(func(r *v1alpha1.RolloutTrafficRouting) { r.Ambassador = &v1alpha1.AmbassadorTrafficRouting{} })},
		{"spec.strategy.canary.trafficRouting.appMesh", tr(func(r *v1alpha1.RolloutTrafficRouting) { r.AppMesh = &v1alpha1.AppMeshTrafficRouting{} })},
		{"spec.strategy.canary.trafficRouting.traefik", tr(func(r *v1alpha1.RolloutTrafficRouting) { r.Traefik = &v1alpha1.TraefikTrafficRouting{} })},
		{"spec.strategy.canary.trafficRouting.apisix", tr(func(r *v1alpha1.RolloutTrafficRouting) { r.Apisix = &v1alpha1.ApisixTrafficRouting{} })},
		{"spec.strategy.canary.replicaProgressThreshold", func(ro *v1alpha1.Rollout) {
			ro.Spec.Strategy.Canary.ReplicaProgressThreshold = &v1alpha1.ReplicaProgressThreshold{Type: "Pod", Value: 1}
		}},
	} {
		t.Run(c.path, func(t *testing.T) {
			fs := ValidateRollout(valid(c.edit), env())
			f := FirstError(fs)
			if f == nil || f.Path != c.path || f.Type != Unsupported {
				t.Fatalf("first error %v, want an Unsupported finding at %s", f, c.path)
			}
			if !strings.Contains(f.Explain(), "nerve does not implement") {
				t.Fatalf("lint wording %q", f.Explain())
			}
		})
	}
	if f := FirstError(ValidateRollout(valid(nil), env())); f != nil {
		t.Fatalf("the valid Rollout is refused: %s", f)
	}
}

func TestCanaryScaleDownAsArgo(t *testing.T) {
	basic := func(ro *v1alpha1.Rollout) {
		ro.Spec.Strategy.Canary.TrafficRouting = nil
		ro.Spec.Strategy.Canary.Steps = []v1alpha1.CanaryStep{{Pause: &v1alpha1.RolloutPause{}}}
	}
	delay := int32(30)
	for _, c := range []struct {
		name string
		edit func(*v1alpha1.Rollout)
		want string
	}{
		{"scaleDownDelaySeconds without trafficRouting", func(ro *v1alpha1.Rollout) {
			basic(ro)
			ro.Spec.Strategy.Canary.ScaleDownDelaySeconds = &delay
		}, "spec.strategy.scaleDownDelaySeconds: Invalid value: 30: Canary scaleDownDelaySeconds can only be used with traffic routing"},
		{"dynamicStableScale without trafficRouting", func(ro *v1alpha1.Rollout) {
			basic(ro)
			ro.Spec.Strategy.Canary.DynamicStableScale = true
		}, "spec.strategy.dynamicStableScale: Invalid value: true: Canary dynamicStableScale can only be used with traffic routing"},
		{"dynamicStableScale with scaleDownDelaySeconds", func(ro *v1alpha1.Rollout) {
			ro.Spec.Strategy.Canary.DynamicStableScale, ro.Spec.Strategy.Canary.ScaleDownDelaySeconds = true, &delay
		}, "spec.strategy.dynamicStableScale: Invalid value: true: Canary dynamicStableScale cannot be used with scaleDownDelaySeconds"},
		{"canary antiAffinity without a rule", func(ro *v1alpha1.Rollout) {
			ro.Spec.Strategy.Canary.AntiAffinity = &v1alpha1.AntiAffinity{}
		}, `spec.strategy.antiAffinity: Invalid value: "antiAffinity.PreferredDuringSchedulingIgnoredDuringExecution: false antiAffinity.RequiredDuringSchedulingIgnoredDuringExecution: false": AntiAffinity must have exactly one strategy listed`},
		{"routed canary with a delay", func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.Canary.ScaleDownDelaySeconds = &delay }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := FirstError(ValidateRollout(valid(c.edit), env()))
			got := ""
			if f != nil {
				got = f.String()
			}
			if got != c.want {
				t.Fatalf("first error\n got %s\nwant %s", got, c.want)
			}
		})
	}
}
