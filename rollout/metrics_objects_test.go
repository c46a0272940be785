package rollout

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func storeOf(t *testing.T, objs ...any) cache.Store {
	t.Helper()
	s := cache.NewStore(cache.MetaNamespaceKeyFunc)
	for _, o := range objs {
		if err := s.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// The information gauges come from the caches at scrape time, with Argo's names, labels and
// values (controller/metrics: collectRollouts, collectAnalysisRuns, collectAnalysisTemplate).
func TestObjectGaugesAsArgo(t *testing.T) {
	replicas := int32(4)
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: v1alpha1.RolloutSpec{Replicas: &replicas, Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
			TrafficRouting: &v1alpha1.RolloutTrafficRouting{Plugins: map[string]json.RawMessage{"nerve/gatewayapi": json.RawMessage(`{}`)}}}}},
		Status: v1alpha1.RolloutStatus{Replicas: 5, AvailableReplicas: 3, UpdatedReplicas: 1, Conditions: []v1alpha1.RolloutCondition{
			{Type: v1alpha1.RolloutProgressing, Status: corev1.ConditionTrue, Reason: reasonPaused}}}}
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-1"},
		Spec: v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{
			{Name: "errors", Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{}}},
			{Name: "soak", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"acme/x": json.RawMessage(`{}`)}}},
		}, DryRun: []v1alpha1.DryRun{{MetricName: "soak"}}},
		Status: v1alpha1.AnalysisRunStatus{Phase: v1alpha1.AnalysisPhaseRunning,
			MetricResults: []v1alpha1.MetricResult{{Name: "errors", Phase: v1alpha1.AnalysisPhaseSuccessful}}}}
	tmpl := &v1alpha1.AnalysisTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "health"},
		Spec: v1alpha1.AnalysisTemplateSpec{Metrics: []v1alpha1.Metric{{Name: "errors", Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{}}}}}}
	m := NewMetrics()
	m.watchCaches(objectCaches{rollouts: storeOf(t, ro), runs: storeOf(t, run), templates: storeOf(t, tmpl)})
	want := `
# HELP rollout_info Information about rollout.
# TYPE rollout_info gauge
rollout_info{name="web",namespace="ns",phase="Paused",strategy="canary",traffic_router=""} 1
# HELP rollout_info_replicas_available The number of available replicas per rollout.
# TYPE rollout_info_replicas_available gauge
rollout_info_replicas_available{name="web",namespace="ns"} 3
# HELP rollout_info_replicas_desired The number of desired replicas per rollout.
# TYPE rollout_info_replicas_desired gauge
rollout_info_replicas_desired{name="web",namespace="ns"} 4
# HELP rollout_info_replicas_unavailable The number of unavailable replicas per rollout.
# TYPE rollout_info_replicas_unavailable gauge
rollout_info_replicas_unavailable{name="web",namespace="ns"} 2
# HELP rollout_info_replicas_updated The number of updated replicas per rollout.
# TYPE rollout_info_replicas_updated gauge
rollout_info_replicas_updated{name="web",namespace="ns"} 1
# HELP rollout_phase Information on the state of the rollout (DEPRECATED - use rollout_info)
# TYPE rollout_phase gauge
rollout_phase{name="web",namespace="ns",phase="Abort",strategy="canary"} 0
rollout_phase{name="web",namespace="ns",phase="Completed",strategy="canary"} 0
rollout_phase{name="web",namespace="ns",phase="Error",strategy="canary"} 0
rollout_phase{name="web",namespace="ns",phase="Paused",strategy="canary"} 1
rollout_phase{name="web",namespace="ns",phase="Progressing",strategy="canary"} 0
rollout_phase{name="web",namespace="ns",phase="Timeout",strategy="canary"} 0
# HELP analysis_run_info Information about analysis run.
# TYPE analysis_run_info gauge
analysis_run_info{name="web-1",namespace="ns",phase="Running"} 1
# HELP analysis_run_metric_type Information on the type of a specific metric in the Analysis Runs
# TYPE analysis_run_metric_type gauge
analysis_run_metric_type{metric="errors",name="web-1",namespace="ns",type="Prometheus"} 1
analysis_run_metric_type{metric="soak",name="web-1",namespace="ns",type="RPCPlugin"} 1
# HELP analysis_template_info Information about analysis templates.
# TYPE analysis_template_info gauge
analysis_template_info{name="health",namespace="ns"} 1
# HELP analysis_template_metric_info Information on metrics in analysis templates.
# TYPE analysis_template_metric_info gauge
analysis_template_metric_info{metric="errors",name="health",namespace="ns",type="Web"} 1
`
	names := []string{"rollout_info", "rollout_info_replicas_available", "rollout_info_replicas_desired",
		"rollout_info_replicas_unavailable", "rollout_info_replicas_updated", "rollout_phase", "analysis_run_info",
		"analysis_run_metric_type", "analysis_template_info", "analysis_template_metric_info"}
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// the dry-run label and the pending default of a metric without a result
	metricPhase := func(metric, dry, phase string) float64 {
		mfs, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "analysis_run_metric_phase" {
				continue
			}
			for _, s := range mf.GetMetric() {
				l := map[string]string{}
				for _, p := range s.GetLabel() {
					l[p.GetName()] = p.GetValue()
				}
				if l["metric"] == metric && l["dry_run"] == dry && l["phase"] == phase {
					return s.GetGauge().GetValue()
				}
			}
		}
		t.Fatalf("no analysis_run_metric_phase{metric=%q,dry_run=%q,phase=%q}", metric, dry, phase)
		return 0
	}
	if metricPhase("errors", "false", "Successful") != 1 || metricPhase("errors", "false", "Running") != 0 ||
		metricPhase("soak", "true", "Pending") != 1 {
		t.Error("analysis_run_metric_phase values differ from Argo's")
	}
}

func TestMetricsPhaseAsArgo(t *testing.T) {
	for reason, want := range map[string]string{reasonNewRSAvailable: "Completed", reasonPaused: "Paused",
		reasonRSCreateError: "Error", reasonTimedOut: "Timeout", reasonAborted: "Abort", reasonReplicaSetUpdate: "Progressing"} {
		st := v1alpha1.RolloutStatus{Conditions: []v1alpha1.RolloutCondition{{Type: v1alpha1.RolloutProgressing, Reason: reason}}}
		if got := metricsPhase(st); got != want {
			t.Errorf("Progressing reason %s: phase %s, want %s", reason, got, want)
		}
		st.Conditions = append(st.Conditions, v1alpha1.RolloutCondition{Type: v1alpha1.InvalidSpec, Status: corev1.ConditionTrue})
		if got := metricsPhase(st); got != "InvalidSpec" {
			t.Errorf("with InvalidSpec: %s", got)
		}
	}
}

// A reconcile stores no per-object gauge: the series count does not grow with reconciles.
func TestReconcileStoresNoGauges(t *testing.T) {
	m := NewMetrics()
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}}
	m.observeRollout(ro, 0, nil)
	if n := testutil.CollectAndCount(m.objects); n != 0 {
		t.Errorf("%d information series without caches", n)
	}
	m.forgetRollout("ns", "web")
	if n := testutil.CollectAndCount(m.rolloutReconcile); n != 0 {
		t.Errorf("rollout_reconcile keeps %d series after the Rollout was deleted", n)
	}
}
