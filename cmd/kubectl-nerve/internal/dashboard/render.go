package dashboard

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
	"github.com/nerve-rollouts/nerve/view"
)

// NerveNamespaces are the namespaces of a nerve platform, in the order the overview shows them
// (before any other namespace).
func NerveNamespaces() []string {
	return []string{"platform-kafka", "platform-flink", "platform-storage", "platform-observability", "platform-security",
		"clinical-ingestion", "clinical-processing", "clinical-serving", "clinical-transforms"}
}

// overviewData is the live part of the overview.
type overviewData struct {
	Groups  []nsGroup
	Count   int
	Error   string
	Updated time.Time
}

type nsGroup struct {
	Namespace string
	Rows      []overviewRow
}

type overviewRow struct {
	view.Rollout
	Revision              int
	Verdict, VerdictClass string
	URL                   string
}

func rolloutURL(ns, name string) string {
	return "/rollouts/" + url.PathEscape(ns) + "/" + url.PathEscape(name)
}

// groupRollouts groups rollouts by namespace: nerve's namespaces first, then the others by name.
func groupRollouts(ros []view.Rollout) []nsGroup {
	rank := map[string]int{}
	for i, ns := range NerveNamespaces() {
		rank[ns] = i + 1
	}
	byNS := map[string][]overviewRow{}
	for _, ro := range ros {
		byNS[ro.Namespace] = append(byNS[ro.Namespace], rowOf(ro))
	}
	out := make([]nsGroup, 0, len(byNS))
	for ns, rows := range byNS {
		sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
		out = append(out, nsGroup{Namespace: ns, Rows: rows})
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank[out[i].Namespace], rank[out[j].Namespace]
		if (ri == 0) != (rj == 0) {
			return ri != 0
		}
		if ri != rj {
			return ri < rj
		}
		return out[i].Namespace < out[j].Namespace
	})
	return out
}

func rowOf(ro view.Rollout) overviewRow {
	row := overviewRow{Rollout: ro, Verdict: "-", VerdictClass: "neutral", URL: rolloutURL(ro.Namespace, ro.Name)}
	if len(ro.Revisions) > 0 {
		row.Revision = ro.Revisions[0].Number
	}
	for _, rev := range ro.Revisions {
		if len(rev.AnalysisRuns) > 0 {
			row.Verdict = rev.AnalysisRuns[0].Status
			row.VerdictClass = phaseClass(row.Verdict)
			break
		}
	}
	return row
}

// rolloutData is the live part of a rollout's page.
type rolloutData struct {
	Namespace, Name string
	Error           string
	D               Detail
	V               view.Rollout
	Revision        int
	Steps           []stepRow
	Progress        int
	WeightPct       int
	Actions         []actionLink
	ActionsNote     string
	Metrics         []metricChart
	Now, Updated    time.Time
}

type stepRow struct {
	Index       int
	Text, State string
}

type actionLink struct {
	Name        actions.Name
	URL         string
	Destructive bool
}

type metricChart struct {
	view.Metric
	Chart *chart
	Count int
}

func steps(ro *v1alpha1.Rollout) ([]stepRow, int) {
	if ro.Spec.Strategy.Canary == nil || len(ro.Spec.Strategy.Canary.Steps) == 0 {
		return nil, 0
	}
	all := ro.Spec.Strategy.Canary.Steps
	idx := 0
	if ro.Status.CurrentStepIndex != nil {
		idx = int(*ro.Status.CurrentStepIndex)
	}
	out := make([]stepRow, 0, len(all))
	for i, s := range all {
		state := "pending"
		switch {
		case i < idx:
			state = "done"
		case i == idx:
			state = "current"
		}
		out = append(out, stepRow{Index: i, Text: actions.StepString(s), State: state})
	}
	return out, min(100, idx*100/len(all))
}

func weightPct(v view.Rollout, ro *v1alpha1.Rollout) int {
	w, err := strconv.Atoi(v.ActualWeight)
	if err != nil {
		return 0
	}
	maxW := 100
	if c := ro.Spec.Strategy.Canary; c != nil && c.TrafficRouting != nil && c.TrafficRouting.MaxTrafficWeight != nil {
		maxW = int(*c.TrafficRouting.MaxTrafficWeight)
	}
	if maxW <= 0 {
		return 0
	}
	return min(100, max(0, w*100/maxW))
}

// metricCharts lists every metric of every run, newest run first, with its measurement history.
func metricCharts(runs []v1alpha1.AnalysisRun, now time.Time) []metricChart {
	sorted := append([]v1alpha1.AnalysisRun(nil), runs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return sorted[j].CreationTimestamp.Before(&sorted[i].CreationTimestamp)
	})
	var out []metricChart
	for i := range sorted {
		run := &sorted[i]
		results := map[string][]v1alpha1.Measurement{}
		for _, mr := range run.Status.MetricResults {
			results[mr.Name] = mr.Measurements
		}
		for _, m := range view.Metrics(run, now) {
			ms := results[m.Name]
			out = append(out, metricChart{Metric: m, Chart: newChart(ms, m.Condition), Count: len(ms)})
		}
	}
	return out
}

// rolloutPage builds the live part of ns/name's page.
func (s *Server) rolloutPage(ctx context.Context, ns, name string) rolloutData {
	now := s.cfg.Now()
	data := rolloutData{Namespace: ns, Name: name, Now: now, Updated: now}
	d, err := s.cfg.Source.Rollout(ctx, ns, name)
	if err != nil {
		data.Error = err.Error()
		return data
	}
	data.D, data.V = d, d.View
	if len(d.View.Revisions) > 0 {
		data.Revision = d.View.Revisions[0].Number
	}
	data.Steps, data.Progress = steps(d.Object)
	data.WeightPct = weightPct(d.View, d.Object)
	data.Metrics = metricCharts(d.Runs, now)
	data.Actions, data.ActionsNote = s.offered(ctx, ns, name)
	return data
}

// offered lists the actions the user may run on ns/name (none when read-only) and a note saying
// why some are missing.
func (s *Server) offered(ctx context.Context, ns, name string) ([]actionLink, string) {
	if s.cfg.ReadOnly {
		return nil, "read-only dashboard (--read-only): no actions"
	}
	var out []actionLink
	for _, n := range actions.Names() {
		ok, err := s.access.mayRun(ctx, n, ns, name)
		if err != nil {
			return nil, "actions unavailable: " + err.Error()
		}
		if ok {
			out = append(out, actionLink{Name: n, URL: rolloutURL(ns, name) + "/actions/" + string(n),
				Destructive: n == actions.ActionAbort || n == actions.ActionPromoteFull})
		}
	}
	if len(out) == 0 {
		return nil, "your Kubernetes user may not patch this rollout: no actions"
	}
	if len(out) < len(actions.Names()) {
		return out, "some actions are hidden: your user may not patch every part of this rollout"
	}
	return out, ""
}

func (s *Server) overview(ctx context.Context) overviewData {
	now := s.cfg.Now()
	ros, err := s.cfg.Source.List(ctx, s.cfg.Namespaces)
	data := overviewData{Updated: now, Count: len(ros)}
	if err != nil {
		data.Error = err.Error()
	}
	data.Groups = groupRollouts(ros)
	return data
}
