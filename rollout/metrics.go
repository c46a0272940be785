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
)

// Metrics are the controller's Prometheus metrics, named and labelled as Argo Rollouts names
// them so that existing dashboards and alerts keep working. The per-object information gauges
// are computed at scrape time from the informer caches (objectCollector); only the counters and
// reconcile histograms are stored.
type Metrics struct {
	Registry *prometheus.Registry

	objects          *objectCollector
	rolloutReconcile *prometheus.HistogramVec
	rolloutErrors    *prometheus.CounterVec
	runReconcile     *prometheus.HistogramVec
	runErrors        *prometheus.CounterVec
	k8sRequests      *counterSet
	rolloutEvents    *counterSet
}

func runPhases() []v1alpha1.AnalysisPhase {
	return []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhasePending, v1alpha1.AnalysisPhaseError,
		v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseRunning,
		v1alpha1.AnalysisPhaseInconclusive}
}

// NewMetrics creates and registers the metrics on a fresh registry.
func NewMetrics() *Metrics {
	nn := []string{"namespace", "name"}
	buckets := []float64{0.01, 0.15, .25, .5, 1}
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		objects:  newObjectCollector(),
		rolloutReconcile: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rollout_reconcile", Help: "Rollout reconciliation performance.",
			Buckets: buckets}, nn),
		rolloutErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rollout_reconcile_error", Help: "Error occurring during the rollout"}, nn),
		runReconcile: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "analysis_run_reconcile", Help: "Analysis Run reconciliation performance.",
			Buckets: buckets}, nn),
		runErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "analysis_run_reconcile_error", Help: "Error occurring during the analysis run"}, nn),
		k8sRequests: newCounterSet("controller_clientset_k8s_request_total", "Number of kubernetes requests executed during application reconciliation.",
			"kind", "namespace", "name", "verb", "status_code"),
		rolloutEvents: newCounterSet("rollout_events_total", "Count of rollout events", "namespace", "name", "type", "reason"),
	}
	m.Registry.MustRegister(m.objects, m.rolloutReconcile, m.rolloutErrors, m.runReconcile, m.runErrors, m.k8sRequests,
		m.rolloutEvents, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// watchCaches makes the information gauges read these informer stores.
func (m *Metrics) watchCaches(c objectCaches) { m.objects.watch(c) }

func (m *Metrics) observeRollout(ro *v1alpha1.Rollout, took time.Duration, err error) {
	m.rolloutReconcile.WithLabelValues(ro.Namespace, ro.Name).Observe(took.Seconds())
	if err != nil {
		m.rolloutErrors.WithLabelValues(ro.Namespace, ro.Name).Inc()
	}
}

// forgetRollout drops the stored series of a deleted Rollout (its gauges go with the cache).
func (m *Metrics) forgetRollout(ns, name string) {
	l := prometheus.Labels{"namespace": ns, "name": name}
	m.rolloutReconcile.Delete(l)
	m.rolloutErrors.Delete(l)
	m.rolloutEvents.forget(ns, name)
}

func (m *Metrics) observeRun(run *v1alpha1.AnalysisRun, took time.Duration, err error) {
	m.runReconcile.WithLabelValues(run.Namespace, run.Name).Observe(took.Seconds())
	if err != nil {
		m.runErrors.WithLabelValues(run.Namespace, run.Name).Inc()
	}
}

// forgetRun drops the stored series of a deleted AnalysisRun.
func (m *Metrics) forgetRun(ns, name string) {
	l := prometheus.Labels{"namespace": ns, "name": name}
	m.runReconcile.Delete(l)
	m.runErrors.Delete(l)
}

func (m *Metrics) countEvent(ns, name, typ, reason string) {
	m.rolloutEvents.inc(ns, name, typ, reason)
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
		m.k8sRequests.inc(kind, ns, name, v, code)
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
