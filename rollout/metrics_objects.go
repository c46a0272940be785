package rollout

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/tools/cache"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/analysis"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// objectCollector emits the per-object information gauges (rollout_info, rollout_phase,
// rollout_info_replicas_*, analysis_run_info, analysis_run_phase, analysis_run_metric_type,
// analysis_run_metric_phase, analysis_template_info, analysis_template_metric_info) at scrape
// time from the informer caches, as Argo's rollout and analysis-run collectors do from their
// listers: nothing is stored per object between scrapes, and a reconcile writes no series.
type objectCollector struct {
	mu     sync.Mutex
	caches objectCaches

	rolloutInfo, rolloutPhase                      *prometheus.Desc
	available, unavailable, desired, updated       *prometheus.Desc
	runInfo, runPhase, runMetricType, runMetricPhs *prometheus.Desc
	templateInfo, templateMetricInfo               *prometheus.Desc
}

// objectCaches are the stores the collector reads; a nil store is skipped.
type objectCaches struct {
	rollouts, runs, templates, clusterTemplates cache.Store
}

func newObjectCollector() *objectCollector {
	nn := []string{"namespace", "name"}
	with := func(extra ...string) []string { return append(append([]string{}, nn...), extra...) }
	return &objectCollector{
		rolloutInfo:  prometheus.NewDesc("rollout_info", "Information about rollout.", with("strategy", "traffic_router", "phase"), nil),
		rolloutPhase: prometheus.NewDesc("rollout_phase", "Information on the state of the rollout (DEPRECATED - use rollout_info)", with("strategy", "phase"), nil),
		available:    prometheus.NewDesc("rollout_info_replicas_available", "The number of available replicas per rollout.", nn, nil),
		unavailable:  prometheus.NewDesc("rollout_info_replicas_unavailable", "The number of unavailable replicas per rollout.", nn, nil),
		desired:      prometheus.NewDesc("rollout_info_replicas_desired", "The number of desired replicas per rollout.", nn, nil),
		updated:      prometheus.NewDesc("rollout_info_replicas_updated", "The number of updated replicas per rollout.", nn, nil),
		runInfo:      prometheus.NewDesc("analysis_run_info", "Information about analysis run.", with("phase"), nil),
		runPhase:     prometheus.NewDesc("analysis_run_phase", "Information on the state of the Analysis Run (DEPRECATED - use analysis_run_info)", with("phase"), nil),
		runMetricType: prometheus.NewDesc("analysis_run_metric_type", "Information on the type of a specific metric in the Analysis Runs",
			with("metric", "type"), nil),
		runMetricPhs: prometheus.NewDesc("analysis_run_metric_phase", "Information on the duration of a specific metric in the Analysis Run",
			with("metric", "type", "dry_run", "phase"), nil),
		templateInfo:       prometheus.NewDesc("analysis_template_info", "Information about analysis templates.", nn, nil),
		templateMetricInfo: prometheus.NewDesc("analysis_template_metric_info", "Information on metrics in analysis templates.", with("type", "metric"), nil),
	}
}

func (c *objectCollector) watch(caches objectCaches) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.caches = caches
}

func (c *objectCollector) current() objectCaches {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.caches
}

// Describe implements prometheus.Collector.
func (c *objectCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.rolloutInfo, c.rolloutPhase, c.available, c.unavailable, c.desired, c.updated,
		c.runInfo, c.runPhase, c.runMetricType, c.runMetricPhs, c.templateInfo, c.templateMetricInfo} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *objectCollector) Collect(ch chan<- prometheus.Metric) {
	caches := c.current()
	each(caches.rollouts, func(ro *v1alpha1.Rollout) { c.collectRollout(ch, ro) })
	each(caches.runs, func(run *v1alpha1.AnalysisRun) { c.collectRun(ch, run) })
	each(caches.templates, func(t *v1alpha1.AnalysisTemplate) { c.collectTemplate(ch, t.Namespace, t.Name, t.Spec.Metrics) })
	each(caches.clusterTemplates, func(t *v1alpha1.ClusterAnalysisTemplate) {
		c.collectTemplate(ch, t.Namespace, t.Name, t.Spec.Metrics)
	})
}

func each[T any](s cache.Store, f func(T)) {
	if s == nil {
		return
	}
	for _, o := range s.List() {
		if t, ok := o.(T); ok {
			f(t)
		}
	}
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, lv ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *objectCollector) collectRollout(ch chan<- prometheus.Metric, ro *v1alpha1.Rollout) {
	strategy, router := strategyAndRouter(ro)
	phase := metricsPhase(ro.Status)
	ns, name := ro.Namespace, ro.Name
	gauge(ch, c.rolloutInfo, 1, ns, name, strategy, router, phase)
	gauge(ch, c.available, float64(ro.Status.AvailableReplicas), ns, name)
	gauge(ch, c.unavailable, float64(ro.Status.Replicas-ro.Status.AvailableReplicas), ns, name)
	gauge(ch, c.desired, float64(canary.Replicas(ro)), ns, name)
	gauge(ch, c.updated, float64(ro.Status.UpdatedReplicas), ns, name)
	for _, p := range []string{"Completed", "Progressing", "Paused", "Timeout", "Error", "Abort"} {
		gauge(ch, c.rolloutPhase, boolValue(phase == p), ns, name, strategy, p)
	}
}

// metricsPhase is the phase label of rollout_info, computed from the conditions as Argo's
// metrics do (Completed, Progressing, Paused, Timeout, Error, Abort, InvalidSpec).
func metricsPhase(st v1alpha1.RolloutStatus) string {
	phase := "Progressing"
	if p := getCond(&st, v1alpha1.RolloutProgressing); p != nil {
		switch p.Reason {
		case reasonNewRSAvailable:
			phase = "Completed"
		case reasonPaused:
			phase = "Paused"
		case reasonRSCreateError:
			phase = "Error"
		case reasonTimedOut:
			phase = "Timeout"
		case reasonAborted:
			phase = "Abort"
		}
	}
	if getCond(&st, v1alpha1.InvalidSpec) != nil {
		phase = "InvalidSpec"
	}
	return phase
}

// strategyAndRouter are rollout_info's strategy and traffic_router labels as Argo sets them:
// the router label names only Argo's built-in routers (which nerve refuses), never a plugin.
func strategyAndRouter(ro *v1alpha1.Rollout) (string, string) {
	switch {
	case ro.Spec.Strategy.BlueGreen != nil:
		return "blueGreen", ""
	case ro.Spec.Strategy.Canary == nil:
		return "none", ""
	}
	tr, router := ro.Spec.Strategy.Canary.TrafficRouting, ""
	if tr == nil {
		return "canary", ""
	}
	for _, r := range []struct {
		set  bool
		name string
	}{{tr.ALB != nil, "ALB"}, {tr.Ambassador != nil, "Ambassador"}, {tr.Istio != nil, "Istio"},
		{tr.Nginx != nil, "Nginx"}, {tr.SMI != nil, "SMI"}, {tr.AppMesh != nil, "AppMesh"}} {
		if r.set {
			router = r.name // the last one set wins, as in Argo
		}
	}
	return "canary", router
}

func (c *objectCollector) collectRun(ch chan<- prometheus.Metric, run *v1alpha1.AnalysisRun) {
	ns, name, phase := run.Namespace, run.Name, run.Status.Phase
	gauge(ch, c.runInfo, 1, ns, name, string(phase))
	for _, p := range runPhases() {
		gauge(ch, c.runPhase, boolValue(isPhase(phase, p)), ns, name, string(p))
	}
	dry, _ := analysis.DryRunMetrics(run.Spec.DryRun, run.Spec.Metrics)
	for _, m := range run.Spec.Metrics {
		typ := argoMetricType(m)
		gauge(ch, c.runMetricType, 1, ns, name, m.Name, typ)
		var cur v1alpha1.AnalysisPhase
		for _, r := range run.Status.MetricResults {
			if r.Name == m.Name {
				cur = r.Phase
				break
			}
		}
		for _, p := range runPhases() {
			gauge(ch, c.runMetricPhs, boolValue(isPhase(cur, p)),
				ns, name, m.Name, typ, fmt.Sprint(dry[m.Name]), string(p))
		}
	}
}

// isPhase reports whether a run or metric in phase cur is in phase p, an empty phase counting
// as Pending (as Argo's analysis gauges count it).
func isPhase(cur, p v1alpha1.AnalysisPhase) bool {
	return cur == p || (cur == "" && p == v1alpha1.AnalysisPhasePending)
}

func (c *objectCollector) collectTemplate(ch chan<- prometheus.Metric, ns, name string, metrics []v1alpha1.Metric) {
	gauge(ch, c.templateInfo, 1, ns, name)
	for _, m := range metrics {
		gauge(ch, c.templateMetricInfo, 1, ns, name, argoMetricType(m), m.Name)
	}
}

// argoMetricType is the type label Argo gives a metric (metricproviders.Type), checked in
// Argo's order.
func argoMetricType(m v1alpha1.Metric) string {
	kinds := map[string]bool{}
	for _, k := range m.Provider.Kinds() {
		kinds[k] = true
	}
	for _, t := range []struct{ key, typ string }{
		{"prometheus", "Prometheus"}, {"job", "Job"}, {"kayenta", "Kayenta"}, {"web", "Web"}, {"datadog", "Datadog"},
		{"wavefront", "Wavefront"}, {"newRelic", "NewRelic"}, {"cloudWatch", "CloudWatch"}, {"graphite", "Graphite"},
		{"influxdb", "Influxdb"}, {"skywalking", "skywalking"}, {"plugin", "RPCPlugin"},
	} {
		if kinds[t.key] {
			return t.typ
		}
	}
	return "Unknown Provider"
}
