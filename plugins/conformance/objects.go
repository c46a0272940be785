package conformance

import (
	"encoding/json"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// The objects fed to plugins: shaped like the controller's, built from the options.

// Rollout returns the Rollout sent to a traffic router: the options' names, the config under
// Plugins[Name], both managed routes, one setWeight step and a canary status.
func Rollout(o Options) *v1alpha1.Rollout {
	o = o.withDefaults()
	w, step, maxW := o.Weight, int32(0), int32(100)
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	ro := &v1alpha1.Rollout{}
	ro.APIVersion, ro.Kind = "argoproj.io/v1alpha1", "Rollout"
	ro.Name, ro.Namespace, ro.UID, ro.Generation = o.Rollout, o.Namespace, "00000000-0000-0000-0000-00000000c0f0", 2
	ro.CreationTimestamp = now
	ro.Labels = map[string]string{"app": o.Rollout}
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{
		CanaryService: o.CanaryService,
		StableService: o.StableService,
		Steps:         []v1alpha1.CanaryStep{{SetWeight: &w}, {Pause: &v1alpha1.RolloutPause{Duration: ptr(intstr.FromString("10s"))}}},
		TrafficRouting: &v1alpha1.RolloutTrafficRouting{
			Plugins:          map[string]json.RawMessage{o.Name: o.Config},
			ManagedRoutes:    []v1alpha1.MangedRoutes{{Name: HeaderRoute}, {Name: MirrorRoute}},
			MaxTrafficWeight: &maxW,
		},
	}
	ro.Status.CurrentStepIndex = &step
	ro.Status.CurrentPodHash, ro.Status.StableRS = "c0ffee", "5ab1e"
	ro.Status.ObservedGeneration = "2"
	ro.Status.Canary.Weights = &v1alpha1.TrafficWeights{
		Canary: v1alpha1.WeightDestination{Weight: w, ServiceName: o.CanaryService, PodTemplateHash: "c0ffee"},
		Stable: v1alpha1.WeightDestination{Weight: 100 - w, ServiceName: o.StableService, PodTemplateHash: "5ab1e"},
	}
	return ro
}

// HeaderRouteStep returns the SetHeaderRoute the suite sends.
func HeaderRouteStep() *v1alpha1.SetHeaderRoute {
	return &v1alpha1.SetHeaderRoute{Name: HeaderRoute, Match: []v1alpha1.HeaderRoutingMatch{
		{HeaderName: "X-Canary", HeaderValue: &v1alpha1.StringMatch{Exact: "true"}}}}
}

// MirrorRouteStep returns the SetMirrorRoute the suite sends.
func MirrorRouteStep() *v1alpha1.SetMirrorRoute {
	pct := int32(10)
	return &v1alpha1.SetMirrorRoute{Name: MirrorRoute, Percentage: &pct, Match: []v1alpha1.RouteMatch{
		{Method: &v1alpha1.StringMatch{Exact: "GET"}, Path: &v1alpha1.StringMatch{Prefix: "/"}}}}
}

// Metric returns the Metric sent to a metric provider: the config under Plugin[Name].
func Metric(o Options) v1alpha1.Metric {
	o = o.withDefaults()
	return v1alpha1.Metric{
		Name:             "nerve-conformance",
		SuccessCondition: o.SuccessCondition,
		FailureCondition: o.FailureCondition,
		Count:            ptr(intstr.FromInt32(1)),
		FailureLimit:     ptr(intstr.FromInt32(0)),
		Provider:         v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{o.Name: o.Config}},
	}
}

// AnalysisRun returns the AnalysisRun sent with the metric: named <rollout>-conformance in the
// options' namespace, with the options' RunUID (a provider that creates objects owned by the run,
// such as nerve-job, needs a real AnalysisRun of that name and uid in functional mode).
func AnalysisRun(o Options) *v1alpha1.AnalysisRun {
	o = o.withDefaults()
	run := &v1alpha1.AnalysisRun{}
	run.APIVersion, run.Kind = "argoproj.io/v1alpha1", "AnalysisRun"
	run.Name, run.Namespace, run.UID = AnalysisRunName(o), o.Namespace, o.RunUID
	run.Spec.Metrics = []v1alpha1.Metric{Metric(o)}
	run.Status.Phase = v1alpha1.AnalysisPhaseRunning
	return run
}

// AnalysisRunName is the name of the AnalysisRun the suite sends.
func AnalysisRunName(o Options) string { return o.withDefaults().Rollout + "-conformance" }

func ptr[T any](v T) *T { return &v }

// nowTime is the current time at second precision (what survives JSON).
func nowTime() metav1.Time { return metav1.NewTime(time.Now().UTC().Truncate(time.Second)) }
