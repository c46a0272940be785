package rules

import (
	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// unsupportedField is one field of Argo's Rollout that nerve's controller does not run.
type unsupportedField struct {
	path   string
	set    bool
	detail string
	hint   string
}

// unsupported refuses, by field path, every field of Argo v1.10's canary strategy that nerve
// keeps but does not run (the other refusals, workloadRef, experiment and plugin steps, are
// next to the rules of their parent): running such a Rollout while ignoring the field would
// silently do something else than Argo.
func unsupported(fs *findings, c *v1alpha1.CanaryStrategy) {
	for _, f := range unsupportedCanaryFields(c) {
		if f.set {
			fs.fail(f.path, Unsupported, f.hint, "%s", f.detail)
		}
	}
}

func unsupportedCanaryFields(c *v1alpha1.CanaryStrategy) []unsupportedField {
	const p = "spec.strategy.canary"
	out := []unsupportedField{{
		path:   p + ".replicaProgressThreshold",
		set:    c.ReplicaProgressThreshold != nil,
		detail: "nerve does not implement replicaProgressThreshold: the canary is promoted once all its pods are available",
		hint:   "nerve does not implement replicaProgressThreshold; remove it (nerve promotes once every canary pod is available)",
	}}
	tr := c.TrafficRouting
	if tr == nil {
		return out
	}
	for _, r := range []struct {
		name string
		set  bool
	}{{"istio", tr.Istio != nil}, {"nginx", tr.Nginx != nil}, {"alb", tr.ALB != nil}, {"smi", tr.SMI != nil},
		{"ambassador", tr.Ambassador != nil}, {"appMesh", tr.AppMesh != nil}, {"traefik", tr.Traefik != nil}, {"apisix", tr.Apisix != nil}} {
		out = append(out, unsupportedField{
			path:   p + ".trafficRouting." + r.name,
			set:    r.set,
			detail: "nerve does not implement Argo's built-in " + r.name + " router: it routes traffic only through trafficRouting.plugins",
			hint:   "nerve does not implement Argo's built-in " + r.name + " router; use a traffic-router plugin under trafficRouting.plugins",
		})
	}
	return out
}
