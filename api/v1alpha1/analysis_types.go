package v1alpha1

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// +kubebuilder:object:root=true

// AnalysisTemplate is a namespaced template for AnalysisRuns.
type AnalysisTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec AnalysisTemplateSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// AnalysisTemplateList is a list of AnalysisTemplates.
type AnalysisTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AnalysisTemplate `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster

// ClusterAnalysisTemplate is a cluster-scoped template for AnalysisRuns.
type ClusterAnalysisTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec AnalysisTemplateSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// ClusterAnalysisTemplateList is a list of ClusterAnalysisTemplates.
type ClusterAnalysisTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterAnalysisTemplate `json:"items"`
}

// AnalysisTemplateSpec is the body of an (Cluster)AnalysisTemplate.
type AnalysisTemplateSpec struct {
	Metrics              []Metric               `json:"metrics,omitempty"`
	Args                 []Argument             `json:"args,omitempty"`
	DryRun               []DryRun               `json:"dryRun,omitempty"`
	MeasurementRetention []MeasurementRetention `json:"measurementRetention,omitempty"`
	Templates            []AnalysisTemplateRef  `json:"templates,omitempty"`
}

// DurationString is a Go duration string ("30s", "5m") used by interval and initialDelay.
type DurationString string

// Metric is one measured quantity with its conditions and limits.
type Metric struct {
	Name string `json:"name"`
	// Interval between measurements; without it the metric is measured once.
	Interval DurationString `json:"interval,omitempty"`
	// InitialDelay before the first measurement.
	InitialDelay DurationString `json:"initialDelay,omitempty"`
	// Count of measurements; with an interval and no count the metric runs until the run ends.
	Count                   *intstr.IntOrString `json:"count,omitempty"`
	SuccessCondition        string              `json:"successCondition,omitempty"`
	FailureCondition        string              `json:"failureCondition,omitempty"`
	FailureLimit            *intstr.IntOrString `json:"failureLimit,omitempty"`
	InconclusiveLimit       *intstr.IntOrString `json:"inconclusiveLimit,omitempty"`
	ConsecutiveErrorLimit   *intstr.IntOrString `json:"consecutiveErrorLimit,omitempty"`
	Provider                MetricProvider      `json:"provider"`
	ConsecutiveSuccessLimit *intstr.IntOrString `json:"consecutiveSuccessLimit,omitempty"`
}

// DryRun names a metric whose result does not affect the run's phase.
type DryRun struct {
	MetricName string `json:"metricName"`
}

// MeasurementRetention keeps the last Limit measurements of a metric.
type MeasurementRetention struct {
	MetricName string `json:"metricName"`
	Limit      int32  `json:"limit"`
}

// MetricProvider says where a metric is measured. nerve runs every provider as a plugin: the
// built-in prometheus block is handed to the plugin registered as nerve/prometheus.
type MetricProvider struct {
	Prometheus *PrometheusMetric `json:"prometheus,omitempty"`
	Web        *WebMetric        `json:"web,omitempty"`
	Job        *JobMetric        `json:"job,omitempty"`
	// Plugin maps exactly one plugin name to its JSON config (map[string][]byte on the wire).
	Plugin map[string]json.RawMessage `json:"plugin,omitempty"`
	// Other keeps built-in provider blocks nerve does not model (datadog, newRelic, ...), so a
	// document decodes without loss and the loop can name the provider it cannot run. It is
	// nerve-only: Argo's types have no field of that name, so gob skips it.
	Other map[string]json.RawMessage `json:"-"`
}

// PrometheusMetric is Argo's provider.prometheus block.
type PrometheusMetric struct {
	Address        string                    `json:"address,omitempty"`
	Query          string                    `json:"query,omitempty"`
	Authentication Authentication            `json:"authentication,omitempty"`
	Timeout        *int64                    `json:"timeout,omitempty"`
	Insecure       bool                      `json:"insecure,omitempty"`
	Headers        []WebMetricHeader         `json:"headers,omitempty"`
	RangeQuery     *PrometheusRangeQueryArgs `json:"rangeQuery,omitempty"`
}

// PrometheusRangeQueryArgs turns the query into a range query.
type PrometheusRangeQueryArgs struct {
	Start string         `json:"start,omitempty"`
	End   string         `json:"end,omitempty"`
	Step  DurationString `json:"step,omitempty"`
}

// Authentication for metric providers.
type Authentication struct {
	Sigv4     Sigv4Config     `json:"sigv4,omitempty"`
	OAuth2    OAuth2Config    `json:"oauth2,omitempty"`
	BasicAuth BasicAuthConfig `json:"basicAuth,omitempty"`
}

// Sigv4Config is AWS SigV4 signing (not supported by nerve's providers; kept for fidelity).
type Sigv4Config struct {
	Region  string `json:"region,omitempty"`
	Profile string `json:"profile,omitempty"`
	RoleARN string `json:"roleArn,omitempty"`
}

// OAuth2Config is the OAuth2 client-credentials flow.
type OAuth2Config struct {
	TokenURL     string   `json:"tokenUrl,omitempty"`
	ClientID     string   `json:"clientId,omitempty"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
}

// BasicAuthConfig is HTTP basic authentication.
type BasicAuthConfig struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// WebMetricHeader is one HTTP header.
type WebMetricHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// WebMetric is Argo's provider.web block (decoded for fidelity; nerve runs it only through a plugin).
type WebMetric struct {
	Method         string            `json:"method,omitempty"`
	URL            string            `json:"url"`
	Headers        []WebMetricHeader `json:"headers,omitempty"`
	Body           string            `json:"body,omitempty"`
	TimeoutSeconds int64             `json:"timeoutSeconds,omitempty"`
	JSONPath       string            `json:"jsonPath,omitempty"`
	Insecure       bool              `json:"insecure,omitempty"`
	JSONBody       json.RawMessage   `json:"jsonBody,omitempty"`
	Authentication Authentication    `json:"authentication,omitempty"`
}

// JobMetric is Argo's provider.job block, kept as raw JSON for the metadata and spec (nerve does
// not run Job metrics). Its fields are named so that gob never meets a kind mismatch: Argo's
// JobMetric has Metadata/Spec structs, so nerve's fields carry other names.
type JobMetric struct {
	RawMetadata json.RawMessage `json:"metadata,omitempty"`
	RawSpec     json.RawMessage `json:"spec"`
}

// AnalysisPhase is the phase of a measurement, a metric or a run.
type AnalysisPhase string

// Analysis phases.
const (
	AnalysisPhasePending      AnalysisPhase = "Pending"
	AnalysisPhaseRunning      AnalysisPhase = "Running"
	AnalysisPhaseSuccessful   AnalysisPhase = "Successful"
	AnalysisPhaseFailed       AnalysisPhase = "Failed"
	AnalysisPhaseError        AnalysisPhase = "Error"
	AnalysisPhaseInconclusive AnalysisPhase = "Inconclusive"
)

// Completed reports whether the phase is final.
func (p AnalysisPhase) Completed() bool {
	switch p {
	case AnalysisPhaseSuccessful, AnalysisPhaseFailed, AnalysisPhaseError, AnalysisPhaseInconclusive:
		return true
	}
	return false
}

// +genclient
// +kubebuilder:object:root=true

// AnalysisRun is one run of an analysis.
type AnalysisRun struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AnalysisRunSpec   `json:"spec"`
	Status AnalysisRunStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// AnalysisRunList is a list of AnalysisRuns.
type AnalysisRunList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AnalysisRun `json:"items"`
}

// AnalysisRunSpec is the resolved body of a run.
type AnalysisRunSpec struct {
	Metrics              []Metric               `json:"metrics"`
	Args                 []Argument             `json:"args,omitempty"`
	Terminate            bool                   `json:"terminate,omitempty"`
	DryRun               []DryRun               `json:"dryRun,omitempty"`
	MeasurementRetention []MeasurementRetention `json:"measurementRetention,omitempty"`
	TTLStrategy          *TTLStrategy           `json:"ttlStrategy,omitempty"`
}

// TTLStrategy deletes finished runs after a while.
type TTLStrategy struct {
	SecondsAfterCompletion *int32 `json:"secondsAfterCompletion,omitempty"`
	SecondsAfterFailure    *int32 `json:"secondsAfterFailure,omitempty"`
	SecondsAfterSuccess    *int32 `json:"secondsAfterSuccess,omitempty"`
}

// Argument is an argument declared by a template or given to a run.
type Argument struct {
	Name      string     `json:"name"`
	Value     *string    `json:"value,omitempty"`
	ValueFrom *ValueFrom `json:"valueFrom,omitempty"`
}

// ValueFrom takes an argument value from a secret or a field of the Rollout.
type ValueFrom struct {
	SecretKeyRef *SecretKeyRef `json:"secretKeyRef,omitempty"`
	FieldRef     *FieldRef     `json:"fieldRef,omitempty"`
}

// SecretKeyRef names a key of a Secret in the run's namespace.
type SecretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// AnalysisRunStatus is the observed state of a run.
type AnalysisRunStatus struct {
	Phase         AnalysisPhase  `json:"phase"`
	Message       string         `json:"message,omitempty"`
	MetricResults []MetricResult `json:"metricResults,omitempty"`
	StartedAt     *metav1.Time   `json:"startedAt,omitempty"`
	RunSummary    RunSummary     `json:"runSummary,omitempty"`
	DryRunSummary *RunSummary    `json:"dryRunSummary,omitempty"`
	CompletedAt   *metav1.Time   `json:"completedAt,omitempty"`
}

// RunSummary counts metrics by phase.
type RunSummary struct {
	Count        int32 `json:"count,omitempty"`
	Successful   int32 `json:"successful,omitempty"`
	Failed       int32 `json:"failed,omitempty"`
	Inconclusive int32 `json:"inconclusive,omitempty"`
	Error        int32 `json:"error,omitempty"`
}

// MetricResult is the state of one metric of a run.
type MetricResult struct {
	Name               string            `json:"name"`
	Phase              AnalysisPhase     `json:"phase"`
	Measurements       []Measurement     `json:"measurements,omitempty"`
	Message            string            `json:"message,omitempty"`
	Count              int32             `json:"count,omitempty"`
	Successful         int32             `json:"successful,omitempty"`
	Failed             int32             `json:"failed,omitempty"`
	Inconclusive       int32             `json:"inconclusive,omitempty"`
	Error              int32             `json:"error,omitempty"`
	ConsecutiveError   int32             `json:"consecutiveError,omitempty"`
	DryRun             bool              `json:"dryRun,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	ConsecutiveSuccess int32             `json:"consecutiveSuccess,omitempty"`
}

// Measurement is one measurement of a metric; it is also the response of a metric plugin's Run.
type Measurement struct {
	Phase      AnalysisPhase     `json:"phase"`
	Message    string            `json:"message,omitempty"`
	StartedAt  *metav1.Time      `json:"startedAt,omitempty"`
	FinishedAt *metav1.Time      `json:"finishedAt,omitempty"`
	Value      string            `json:"value,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	ResumeAt   *metav1.Time      `json:"resumeAt,omitempty"`
}
