package view

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/analysis"
)

func analysisRuns(uid types.UID, runs []v1alpha1.AnalysisRun, now time.Time) []AnalysisRun {
	var out []AnalysisRun
	for i := range runs {
		run := &runs[i]
		if !ownedBy(run.OwnerReferences, uid) {
			continue
		}
		out = append(out, AnalysisRunOf(run, now))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name > out[j].Name })
	return out
}

// AnalysisRunOf derives the view of one AnalysisRun.
func AnalysisRunOf(run *v1alpha1.AnalysisRun, now time.Time) AnalysisRun {
	phase := run.Status.Phase
	if phase == "" {
		phase = v1alpha1.AnalysisPhasePending
	}
	ar := AnalysisRun{
		Name: run.Name, Status: string(phase), Icon: AnalysisIcon(phase), Message: run.Status.Message,
		Created: run.CreationTimestamp.Time, revision: revisionOf(run.Annotations),
	}
	for _, mr := range run.Status.MetricResults {
		ar.Successful += mr.Successful
		ar.Failed += mr.Failed
		ar.Inconclusive += mr.Inconclusive
		ar.Error += mr.Error
	}
	ar.Metrics = Metrics(run, now)
	return ar
}

// Metrics returns the latest state of each metric of run, in spec order.
func Metrics(run *v1alpha1.AnalysisRun, now time.Time) []Metric {
	results := map[string]*v1alpha1.MetricResult{}
	for i := range run.Status.MetricResults {
		results[run.Status.MetricResults[i].Name] = &run.Status.MetricResults[i]
	}
	args := runArgs(run.Spec.Args)
	out := make([]Metric, 0, len(run.Spec.Metrics))
	for _, m := range run.Spec.Metrics {
		out = append(out, metricOf(run, m, results[m.Name], args, now))
	}
	return out
}

func runArgs(args []v1alpha1.Argument) map[string]string {
	out := map[string]string{}
	for _, a := range args {
		if a.Value != nil {
			out[a.Name] = *a.Value
		}
	}
	return out
}

func metricOf(run *v1alpha1.AnalysisRun, m v1alpha1.Metric, mr *v1alpha1.MetricResult, args map[string]string, now time.Time) Metric {
	out := Metric{Run: run.Name, Name: m.Name, Phase: string(v1alpha1.AnalysisPhasePending), Condition: Condition(m),
		Query: analysis.SubstituteString(SpecQuery(m), args), Count: countString(m)}
	if mr != nil {
		out.Phase = string(mr.Phase)
		out.Measured = len(mr.Measurements)
		out.Message = mr.Message
		if q := resolvedQuery(mr.Metadata); q != "" {
			out.Query = q
		}
	}
	out.Icon = AnalysisIcon(v1alpha1.AnalysisPhase(out.Phase))
	if mr != nil && len(mr.Measurements) > 0 {
		last := mr.Measurements[len(mr.Measurements)-1]
		out.Value = last.Value
		if out.Value == "" && last.Message != "" {
			out.Value = "(" + last.Message + ")"
		}
		if q := resolvedQuery(last.Metadata); q != "" {
			out.Query = q
		}
	}
	out.TimeLeft = timeLeft(run, m, mr, now)
	return out
}

// Condition describes a metric's success and failure conditions.
func Condition(m v1alpha1.Metric) string {
	var parts []string
	if m.SuccessCondition != "" {
		parts = append(parts, m.SuccessCondition)
	}
	if m.FailureCondition != "" {
		parts = append(parts, "fail if "+m.FailureCondition)
	}
	return strings.Join(parts, "; ")
}

// SpecQuery returns the query text of a metric's provider, if it has one.
func SpecQuery(m v1alpha1.Metric) string {
	switch {
	case m.Provider.Prometheus != nil:
		return strings.TrimSpace(m.Provider.Prometheus.Query)
	case m.Provider.Web != nil:
		return m.Provider.Web.URL
	}
	for _, raw := range m.Provider.Plugin {
		if q := jsonQuery(raw); q != "" {
			return q
		}
	}
	return ""
}

func jsonQuery(raw []byte) string {
	var cfg map[string]any
	if json.Unmarshal(raw, &cfg) != nil {
		return ""
	}
	if q, ok := cfg["query"].(string); ok {
		return strings.TrimSpace(q)
	}
	return ""
}

func resolvedQuery(md map[string]string) string {
	if q := md["ResolvedPrometheusQuery"]; q != "" {
		return oneLine(q)
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(strings.ToLower(k), "query") && md[k] != "" {
			return oneLine(md[k])
		}
	}
	return ""
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func countString(m v1alpha1.Metric) string {
	if m.Count != nil {
		return m.Count.String()
	}
	if m.Interval == "" {
		return "1"
	}
	return "∞"
}

func timeLeft(run *v1alpha1.AnalysisRun, m v1alpha1.Metric, mr *v1alpha1.MetricResult, now time.Time) string {
	if run.Status.Phase.Completed() || run.Spec.Terminate || (mr != nil && mr.Phase.Completed()) {
		return "-"
	}
	if mr != nil && len(mr.Measurements) > 0 {
		last := mr.Measurements[len(mr.Measurements)-1]
		if last.ResumeAt != nil {
			return human(last.ResumeAt.Sub(now))
		}
	}
	interval, err := time.ParseDuration(string(m.Interval))
	if m.Interval == "" || err != nil {
		return "-"
	}
	total := int(analysis.EffectiveCount(m))
	if total == 0 {
		return "∞"
	}
	measured := 0
	next := now
	if mr != nil {
		measured = len(mr.Measurements)
		if measured > 0 {
			if f := mr.Measurements[measured-1].FinishedAt; f != nil {
				next = f.Add(interval)
			}
		}
	}
	remaining := total - measured
	if remaining <= 0 {
		return "-"
	}
	return human(next.Sub(now) + time.Duration(remaining-1)*interval)
}

func human(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return duration.HumanDuration(d)
}

// Age formats the time since t ("-" for a zero time).
func Age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration.HumanDuration(now.Sub(t))
}
