package rules

import (
	"fmt"

	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Argo's blueGreen validation messages (pkg/apis/rollouts/validation).
const (
	msgDuplicatedBlueGreenServices = "This rollout uses the same service for the active and preview services, but two different services are required."
	msgScaleDownLimit              = "This rollout's revision history limit can not be smaller than the rollout's scale down limit"
	msgAntiAffinityStrategy        = "AntiAffinity must have exactly one strategy listed"
	msgAntiAffinityWeight          = "AntiAffinity weight must be between 1-100"
)

// blueGreen checks spec.strategy.blueGreen as Argo's controller does: activeService set and
// different from previewService, scaleDownDelayRevisionLimit within revisionHistoryLimit,
// antiAffinity with exactly one rule, both Services present, and the pre- and post-promotion
// analyses. Argo reports the first three at its own paths (spec.strategy.activeService, ...).
func blueGreen(fs *findings, ro *v1alpha1.Rollout, bg *v1alpha1.BlueGreenStrategy, env Env) {
	if bg.ActiveService == "" {
		fs.fail("spec.strategy.blueGreen.activeService", Required, "blueGreen needs activeService: the Service that receives production traffic",
			"Rollout has missing field '.spec.strategy.blueGreen.activeService'")
	} else if bg.ActiveService == bg.PreviewService {
		fs.fail("spec.strategy.activeService", Invalid, "", "%q: %s", bg.ActiveService, msgDuplicatedBlueGreenServices)
	}
	if l := bg.ScaleDownDelayRevisionLimit; l != nil && ptr.Deref(ro.Spec.RevisionHistoryLimit, 10) < *l {
		fs.fail("spec.strategy.scaleDownDelayRevisionLimit", Invalid, "", "%d: %s", *l, msgScaleDownLimit)
	}
	antiAffinity(fs, "spec.strategy.antiAffinity", bg.AntiAffinity)
	if env.ServiceExists != nil {
		for _, s := range []struct{ field, name string }{{"activeService", bg.ActiveService}, {"previewService", bg.PreviewService}} {
			if s.name != "" && !env.ServiceExists(s.name) {
				fs.fail("spec.strategy.blueGreen."+s.field, Invalid, "", "%q: services %q not found", s.name, s.name)
			}
		}
	}
	if env.Analysis == nil {
		return
	}
	for _, a := range []struct {
		field string
		ra    *v1alpha1.RolloutAnalysis
	}{{"prePromotionAnalysis", bg.PrePromotionAnalysis}, {"postPromotionAnalysis", bg.PostPromotionAnalysis}} {
		if a.ra != nil {
			*fs = append(*fs, env.Analysis("spec.strategy.blueGreen."+a.field, *a.ra)...)
		}
	}
}

// antiAffinity is Argo's ValidateRolloutStrategyAntiAffinity.
func antiAffinity(fs *findings, path string, aa *v1alpha1.AntiAffinity) {
	if aa == nil {
		return
	}
	pref, req := aa.PreferredDuringSchedulingIgnoredDuringExecution, aa.RequiredDuringSchedulingIgnoredDuringExecution
	if (pref == nil) == (req == nil) {
		fs.fail(path, Invalid, "", "%q: %s", fmt.Sprintf("antiAffinity.PreferredDuringSchedulingIgnoredDuringExecution: %t antiAffinity.RequiredDuringSchedulingIgnoredDuringExecution: %t", pref != nil, req != nil), msgAntiAffinityStrategy)
	}
	if pref != nil && (pref.Weight < 1 || pref.Weight > 100) {
		fs.fail(path+".weight", Invalid, "", "%d: %s", pref.Weight, msgAntiAffinityWeight)
	}
}
