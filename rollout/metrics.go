package rollout

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
)

// Metrics are the controller's Prometheus metrics, named as Argo Rollouts names them so that
// existing dashboards and alerts keep working.
type Metrics struct {
	Registry *prometheus.Registry

	rolloutInfo      *prometheus.GaugeVec
	rolloutPhase     *prometheus.GaugeVec
	rolloutReplicas  map[string]*prometheus.GaugeVec
	rolloutReconcile *prometheus.HistogramVec
	rolloutErrors    *prometheus.CounterVec
	runInfo          *prometheus.GaugeVec
	runMetricPhase   *prometheus.GaugeVec
	runMetricType    *prometheus.GaugeVec
	runReconcile     *prometheus.HistogramVec
	k8sRequests      *prometheus.CounterVec
	rolloutEvents    *prometheus.CounterVec
}

func phases() []v1alpha1.RolloutPhase {
	return []v1alpha1.RolloutPhase{v1alpha1.RolloutPhaseHealthy, v1alpha1.RolloutPhaseDegraded,
		v1alpha1.RolloutPhaseProgressing, v1alpha1.RolloutPhasePaused}
}

func runPhases() []v1alpha1.AnalysisPhase {
	return []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhasePending, v1alpha1.AnalysisPhaseRunning,
		v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseError,
		v1alpha1.AnalysisPhaseInconclusive}
}

// NewMetrics creates and registers the metrics on a fresh registry.
func NewMetrics() *Metrics {
	nn := []string{"namespace", "name"}
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		rolloutInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rollout_info", Help: "Information about rollout."},
			[]string{"namespace", "name", "strategy", "traffic_router", "phase"}),
		rolloutPhase: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rollout_phase", Help: "Information on the state of the rollout (DEPRECATED - use rollout_info)"},
			[]string{"namespace", "name", "strategy", "phase"}),
		rolloutReplicas: map[string]*prometheus.GaugeVec{},
		rolloutReconcile: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rollout_reconcile", Help: "Rollout reconciliation performance.",
			Buckets: []float64{0.01, 0.15, .25, .5, 1}}, nn),
		rolloutErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rollout_reconcile_error", Help: "Error occurring during the rollout"}, nn),
		runInfo:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "analysis_run_info", Help: "Information about analysis run."}, []string{"namespace", "name", "phase"}),
		runMetricPhase: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "analysis_run_metric_phase", Help: "Information on the duration of a specific metric in the Analysis Run"},
			[]string{"namespace", "name", "metric", "type", "phase"}),
		runMetricType: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "analysis_run_metric_type", Help: "Information on the type of a specific metric in the Analysis Runs"},
			[]string{"namespace", "name", "metric", "type"}),
		runReconcile: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "analysis_run_reconcile", Help: "Analysis Run reconciliation performance.",
			Buckets: []float64{0.01, 0.15, .25, .5, 1}}, nn),
		k8sRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "controller_clientset_k8s_request_total", Help: "Number of kubernetes requests executed during application reconciliation."},
			[]string{"kind", "namespace", "name", "verb", "status_code"}),
		rolloutEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rollout_events_total", Help: "Count of rollout events"},
			[]string{"namespace", "name", "type", "reason"}),
	}
	for _, s := range []string{"available", "unavailable", "desired", "updated"} {
		m.rolloutReplicas[s] = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rollout_info_replicas_" + s,
			Help: "The number of " + s + " replicas per rollout."}, nn)
		m.Registry.MustRegister(m.rolloutReplicas[s])
	}
	m.Registry.MustRegister(m.rolloutInfo, m.rolloutPhase, m.rolloutReconcile, m.rolloutErrors, m.runInfo,
		m.runMetricPhase, m.runMetricType, m.runReconcile, m.k8sRequests, m.rolloutEvents,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

func (m *Metrics) observeRollout(ro *v1alpha1.Rollout, took time.Duration, err error) {
	m.rolloutReconcile.WithLabelValues(ro.Namespace, ro.Name).Observe(took.Seconds())
	if err != nil {
		m.rolloutErrors.WithLabelValues(ro.Namespace, ro.Name).Inc()
	}
	m.forgetRollout(ro.Namespace, ro.Name)
	strategy, router := "canary", ""
	if ro.Spec.Strategy.BlueGreen != nil {
		strategy = "blueGreen"
	}
	if c := ro.Spec.Strategy.Canary; c != nil && c.TrafficRouting != nil {
		var names []string
		for n := range c.TrafficRouting.Plugins {
			names = append(names, n)
		}
		router = strings.Join(names, ",")
	}
	m.rolloutInfo.WithLabelValues(ro.Namespace, ro.Name, strategy, router, string(ro.Status.Phase)).Set(1)
	for _, p := range phases() {
		v := 0.0
		if p == ro.Status.Phase {
			v = 1
		}
		m.rolloutPhase.WithLabelValues(ro.Namespace, ro.Name, strategy, string(p)).Set(v)
	}
	desired := canary.Replicas(ro)
	m.rolloutReplicas["available"].WithLabelValues(ro.Namespace, ro.Name).Set(float64(ro.Status.AvailableReplicas))
	m.rolloutReplicas["unavailable"].WithLabelValues(ro.Namespace, ro.Name).Set(float64(max(0, ro.Status.Replicas-ro.Status.AvailableReplicas)))
	m.rolloutReplicas["desired"].WithLabelValues(ro.Namespace, ro.Name).Set(float64(desired))
	m.rolloutReplicas["updated"].WithLabelValues(ro.Namespace, ro.Name).Set(float64(ro.Status.UpdatedReplicas))
}

func (m *Metrics) forgetRollout(ns, name string) {
	l := prometheus.Labels{"namespace": ns, "name": name}
	m.rolloutInfo.DeletePartialMatch(l)
	m.rolloutPhase.DeletePartialMatch(l)
	for _, g := range m.rolloutReplicas {
		g.DeletePartialMatch(l)
	}
}

func (m *Metrics) observeRun(run *v1alpha1.AnalysisRun, took time.Duration) {
	m.runReconcile.WithLabelValues(run.Namespace, run.Name).Observe(took.Seconds())
	m.forgetRun(run.Namespace, run.Name)
	phase := run.Status.Phase
	if phase == "" {
		phase = v1alpha1.AnalysisPhasePending
	}
	m.runInfo.WithLabelValues(run.Namespace, run.Name, string(phase)).Set(1)
	for _, metric := range run.Spec.Metrics {
		typ := metricType(metric)
		m.runMetricType.WithLabelValues(run.Namespace, run.Name, metric.Name, typ).Set(1)
		cur := v1alpha1.AnalysisPhasePending
		for _, r := range run.Status.MetricResults {
			if r.Name == metric.Name {
				cur = r.Phase
			}
		}
		for _, p := range runPhases() {
			v := 0.0
			if p == cur {
				v = 1
			}
			m.runMetricPhase.WithLabelValues(run.Namespace, run.Name, metric.Name, typ, string(p)).Set(v)
		}
	}
}

func (m *Metrics) forgetRun(ns, name string) {
	l := prometheus.Labels{"namespace": ns, "name": name}
	m.runInfo.DeletePartialMatch(l)
	m.runMetricPhase.DeletePartialMatch(l)
	m.runMetricType.DeletePartialMatch(l)
}

func metricType(metric v1alpha1.Metric) string {
	kinds := metric.Provider.Kinds()
	if len(kinds) == 0 {
		return "Unknown"
	}
	switch kinds[0] {
	case "prometheus":
		return "Prometheus"
	case "web":
		return "Web"
	case "job":
		return "Job"
	case "plugin":
		for n := range metric.Provider.Plugin {
			return n
		}
	}
	return kinds[0]
}

func (m *Metrics) countEvent(ns, name, typ, reason string) {
	m.rolloutEvents.WithLabelValues(ns, name, typ, reason).Inc()
}

// WrapTransport counts every API request by kind, namespace, name, verb and status code, as
// Argo's controller_clientset_k8s_request_total does (with Argo's labels: a collection GET is a
// List or a Watch, and lists, events and ReplicaSets are counted under the name "N/A", which
// also keeps the number of series from growing with every event and ReplicaSet ever written).
// Install it on the rest.Config.
func (m *Metrics) WrapTransport(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		code := "0"
		if resp != nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		kind, ns, name := parsePath(req.URL.Path)
		v := verb(req, name)
		switch {
		case v == "List" || kind == "events" || kind == "replicasets":
			name = "N/A"
		case v == "Watch":
			if fs := req.URL.Query().Get("fieldSelector"); strings.HasPrefix(fs, "metadata.name=") {
				name = strings.TrimPrefix(fs, "metadata.name=")
			}
		}
		m.k8sRequests.WithLabelValues(kind, ns, name, v, code).Inc()
		return resp, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// verb is Argo's request verb; name is the object name in the path ("" for a collection).
func verb(req *http.Request, name string) string {
	switch req.Method {
	case http.MethodGet:
		if name != "" {
			return "Get"
		}
		if req.URL.Query().Get("watch") == "true" {
			return "Watch"
		}
		return "List"
	case http.MethodPost:
		return "Create"
	case http.MethodPut:
		return "Update"
	case http.MethodPatch:
		return "Patch"
	case http.MethodDelete:
		return "Delete"
	}
	return "Unknown"
}

// parsePath extracts the resource kind, namespace and name from an API path.
func parsePath(path string) (kind, ns, name string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) > 0 && parts[0] == "api" {
		parts = parts[2:]
	} else if len(parts) > 2 {
		parts = parts[3:]
	} else {
		return "Unknown", "", ""
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) > 2 {
		ns, parts = parts[1], parts[2:]
	}
	if len(parts) == 0 {
		return "Unknown", ns, ""
	}
	kind = parts[0]
	if len(parts) > 1 {
		name = parts[1]
	}
	return kind, ns, name
}
