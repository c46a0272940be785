// Package v1alpha1 holds the argoproj.io/v1alpha1 API types that nerve reads and writes: Rollout,
// AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun, with the canary strategy, steps and
// traffic-routing shapes that Argo Rollouts' plugins receive.
//
// The types serve three masters at once, and every field name is chosen for all of them:
//   - JSON: they decode the CRD documents users already write for Argo Rollouts (field names and
//     JSON tags follow argoproj.io/v1alpha1 exactly).
//   - gob: they cross the Argo Rollouts plugin wire (net/rpc + gob). gob matches struct fields by
//     Go field name and requires compatible kinds, so Go field names, embedded types
//     (metav1.TypeMeta, metav1.ObjectMeta, RolloutAnalysis), json.RawMessage for plugin configs,
//     metav1.Time for timestamps and intstr.IntOrString for counts are kept exactly as Argo has them.
//     A field nerve does not model is simply absent (gob skips it); a field is never given a
//     different kind than Argo's.
//   - client-go: the top-level kinds implement runtime.Object (deep copies in
//     zz_generated.deepcopy.go) and register with a scheme through AddToScheme.
//
// blueGreen, workloadRef and experiment steps are modelled only as far as nerve needs to recognise
// and refuse them (nerve's loop runs canaries only).
//
// +kubebuilder:object:generate=true
// +groupName=argoproj.io
package v1alpha1
