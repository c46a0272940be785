package rules

import (
	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Argo's messages (pkg/apis/rollouts/validation in v1.10.0).
const (
	msgCanaryScaleDownDelay         = "Canary scaleDownDelaySeconds can only be used with traffic routing"
	msgCanaryDynamicStableScale     = "Canary dynamicStableScale can only be used with traffic routing"
	msgCanaryDynamicWithScaleDelay  = "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds"
	canaryScaleDownDelayPath        = "spec.strategy.scaleDownDelaySeconds" // Argo's path (no .canary)
	canaryDynamicStableScalePath    = "spec.strategy.dynamicStableScale"
	canaryAntiAffinityPath          = "spec.strategy.antiAffinity"
	hintCanaryScaleDownNeedsRouting = "scaleDownDelaySeconds and dynamicStableScale only apply with trafficRouting (a basic canary scales the old pods down at once)"
)

// canaryScaleDown is Argo's validation of the canary's scale-down fields: scaleDownDelaySeconds
// and dynamicStableScale need trafficRouting and exclude each other; and canary.antiAffinity
// names exactly one rule (Argo's ValidateRolloutStrategyAntiAffinity, at Argo's path).
func canaryScaleDown(fs *findings, c *v1alpha1.CanaryStrategy) {
	if c.TrafficRouting == nil {
		if c.ScaleDownDelaySeconds != nil {
			fs.fail(canaryScaleDownDelayPath, Invalid, hintCanaryScaleDownNeedsRouting, "%d: %s", *c.ScaleDownDelaySeconds, msgCanaryScaleDownDelay)
		}
		if c.DynamicStableScale {
			fs.fail(canaryDynamicStableScalePath, Invalid, hintCanaryScaleDownNeedsRouting, "true: %s", msgCanaryDynamicStableScale)
		}
	} else if c.ScaleDownDelaySeconds != nil && c.DynamicStableScale {
		fs.fail(canaryDynamicStableScalePath, Invalid, "", "true: %s", msgCanaryDynamicWithScaleDelay)
	}
	antiAffinity(fs, canaryAntiAffinityPath, c.AntiAffinity)
}
