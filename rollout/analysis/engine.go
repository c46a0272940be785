package analysis

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// Providers resolves metric-provider plugins by name (the plugin host satisfies it).
type Providers interface {
	Has(kind plugins.Kind, name string) bool
	MetricProvider(ctx context.Context, name string) (plugins.MetricProvider, error)
}

// Engine reconciles AnalysisRuns.
type Engine struct {
	Providers Providers
	Now       func() time.Time
	// Secrets resolves valueFrom.secretKeyRef arguments (nil: such arguments stay unresolved).
	Secrets SecretGetter
}

// Result is the outcome of one reconcile of a run.
type Result struct {
	// Run is the updated copy (status changed in place on the copy).
	Run *v1alpha1.AnalysisRun
	// RequeueAfter is when the run wants its next reconcile (0: not needed).
	RequeueAfter time.Duration
}

// Reconcile takes the measurements that are due and recomputes the run's phase. It never
// mutates run; the returned Run is a deep copy.
func (e *Engine) Reconcile(ctx context.Context, in *v1alpha1.AnalysisRun) Result {
	run := in.DeepCopy()
	if run.Status.Phase.Completed() {
		return Result{Run: run}
	}
	now := e.Now()
	if run.Status.StartedAt == nil {
		t := metav1.NewTime(now)
		run.Status.StartedAt = &t
	}
	if err := validateRun(run); err != nil {
		e.complete(run, v1alpha1.AnalysisPhaseError, err.Error(), now)
		return Result{Run: run}
	}
	terminating := run.Spec.Terminate
	for i := range run.Spec.Metrics {
		e.measureIfDue(ctx, run, run.Spec.Metrics[i], now, terminating)
	}
	phase, msg := assessRun(run, terminating)
	if phase.Completed() {
		if phase == v1alpha1.AnalysisPhaseSuccessful && terminating && msg == "" {
			msg = "Run Terminated"
		}
		e.terminateInFlight(ctx, run, now)
		e.complete(run, phase, msg, now)
	} else {
		run.Status.Phase, run.Status.Message = phase, msg
	}
	e.garbageCollect(ctx, run)
	return Result{Run: run, RequeueAfter: e.requeueAfter(run, now)}
}

func (e *Engine) complete(run *v1alpha1.AnalysisRun, phase v1alpha1.AnalysisPhase, msg string, now time.Time) {
	t := metav1.NewTime(now)
	run.Status.Phase, run.Status.Message, run.Status.CompletedAt = phase, msg, &t
}

// result returns the MetricResult of name, creating it (Pending) when missing.
func result(run *v1alpha1.AnalysisRun, name string) *v1alpha1.MetricResult {
	for i := range run.Status.MetricResults {
		if run.Status.MetricResults[i].Name == name {
			return &run.Status.MetricResults[i]
		}
	}
	run.Status.MetricResults = append(run.Status.MetricResults, v1alpha1.MetricResult{
		Name: name, Phase: v1alpha1.AnalysisPhasePending, DryRun: isDryRun(run, name),
	})
	return &run.Status.MetricResults[len(run.Status.MetricResults)-1]
}

func findResult(run *v1alpha1.AnalysisRun, name string) *v1alpha1.MetricResult {
	for i := range run.Status.MetricResults {
		if run.Status.MetricResults[i].Name == name {
			return &run.Status.MetricResults[i]
		}
	}
	return nil
}

// isDryRun reports whether a dryRun rule matches the metric (validateRun has refused rules
// that match none).
func isDryRun(run *v1alpha1.AnalysisRun, name string) bool {
	names, _ := DryRunMetrics(run.Spec.DryRun, run.Spec.Metrics)
	return names[name]
}

// measureIfDue runs, resumes or terminates the metric's measurement when it is due.
func (e *Engine) measureIfDue(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, now time.Time, terminating bool) {
	r := findResult(run, m.Name)
	if r != nil && r.Phase.Completed() {
		return
	}
	inFlight := r != nil && len(r.Measurements) > 0 && r.Measurements[len(r.Measurements)-1].FinishedAt == nil
	if terminating && !inFlight {
		return
	}
	at, due := nextMeasurementAt(run, m, r)
	if !due || (at.After(now) && !terminating) {
		return
	}
	resolved, provider, perr := e.provider(ctx, run, m)
	if r == nil {
		r = result(run, m.Name)
		if perr == nil {
			if md, err := provider.GetMetadata(ctx, resolved); err == nil && len(md) > 0 {
				r.Metadata = md
			}
		}
	}
	var ms v1alpha1.Measurement
	switch {
	case perr != nil:
		ms = errorMeasurement(perr, now)
	case inFlight && terminating:
		ms = call(now, func() (v1alpha1.Measurement, error) {
			return provider.Terminate(ctx, run, resolved, r.Measurements[len(r.Measurements)-1])
		})
	case inFlight:
		ms = call(now, func() (v1alpha1.Measurement, error) {
			return provider.Resume(ctx, run, resolved, r.Measurements[len(r.Measurements)-1])
		})
	default:
		ms = call(now, func() (v1alpha1.Measurement, error) { return provider.Run(ctx, run, resolved) })
	}
	record(r, ms, inFlight)
	// As in Argo, a metric's message is its last measurement's message, taken when its phase changes.
	if phase := assessMetric(m, *r, terminating); phase != r.Phase {
		r.Phase, r.Message = phase, ms.Message
	}
}

func call(now time.Time, f func() (v1alpha1.Measurement, error)) v1alpha1.Measurement {
	ms, err := f()
	if err != nil {
		return errorMeasurement(err, now)
	}
	if ms.StartedAt == nil {
		t := metav1.NewTime(now)
		ms.StartedAt = &t
	}
	if ms.Phase.Completed() && ms.FinishedAt == nil {
		t := metav1.NewTime(now)
		ms.FinishedAt = &t
	}
	if ms.Phase == "" {
		ms.Phase = v1alpha1.AnalysisPhaseError
		ms.Message = "metric provider returned a measurement without a phase"
		t := metav1.NewTime(now)
		ms.FinishedAt = &t
	}
	return ms
}

func errorMeasurement(err error, now time.Time) v1alpha1.Measurement {
	t := metav1.NewTime(now)
	return v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseError, Message: err.Error(), StartedAt: &t, FinishedAt: &t}
}

// record appends (or, for a resumed measurement, replaces) ms and updates the counters.
func record(r *v1alpha1.MetricResult, ms v1alpha1.Measurement, replace bool) {
	if replace {
		r.Measurements[len(r.Measurements)-1] = ms
	} else {
		r.Measurements = append(r.Measurements, ms)
	}
	switch ms.Phase {
	case v1alpha1.AnalysisPhaseSuccessful:
		r.Successful++
		r.Count++
		r.ConsecutiveError = 0
		r.ConsecutiveSuccess++
	case v1alpha1.AnalysisPhaseFailed:
		r.Failed++
		r.Count++
		r.ConsecutiveError, r.ConsecutiveSuccess = 0, 0
	case v1alpha1.AnalysisPhaseInconclusive:
		r.Inconclusive++
		r.Count++
		r.ConsecutiveError, r.ConsecutiveSuccess = 0, 0
	case v1alpha1.AnalysisPhaseError:
		r.Error++
		r.ConsecutiveError++
		r.ConsecutiveSuccess = 0
	}
}

// assessRun ranks the metrics: the run phase is the worst non-dry-run metric; any Failed, Error
// or Inconclusive metric ends the run.
func assessRun(run *v1alpha1.AnalysisRun, terminating bool) (v1alpha1.AnalysisPhase, string) {
	worst := v1alpha1.AnalysisPhaseSuccessful
	var msg string
	allDone, anyBad := true, false
	var summary, dry v1alpha1.RunSummary
	for _, m := range run.Spec.Metrics {
		r := findResult(run, m.Name)
		phase := v1alpha1.AnalysisPhasePending
		if r != nil {
			phase = r.Phase
		}
		if terminating && !phase.Completed() {
			phase = v1alpha1.AnalysisPhaseSuccessful
		}
		if isDryRun(run, m.Name) {
			count(&dry, phase)
			if reason := limitReason(m, r); reason != "" && phase.Completed() {
				r.Message = fmt.Sprintf("Metric assessed %s due to %s", phase, reason)
			}
			continue
		}
		count(&summary, phase)
		if !phase.Completed() {
			allDone = false
		}
		if Bad(phase) {
			anyBad = true
		}
		if rank(phase) > rank(worst) {
			worst = phase
			if reason := limitReason(m, r); reason != "" && phase.Completed() {
				msg = runMessage(m.Name, phase, reason, r.Message)
			}
		}
	}
	run.Status.RunSummary = summary
	if len(run.Spec.DryRun) > 0 {
		run.Status.DryRunSummary = &dry
	}
	if anyBad || allDone {
		return worst, msg
	}
	if worst == v1alpha1.AnalysisPhasePending {
		return v1alpha1.AnalysisPhaseRunning, ""
	}
	return v1alpha1.AnalysisPhaseRunning, ""
}

// limitReason is the breached limit of a metric ("failed (1) > failureLimit (0)"), or "".
func limitReason(m v1alpha1.Metric, r *v1alpha1.MetricResult) string {
	if r == nil {
		return ""
	}
	_, reason := limitBreached(m, *r)
	return reason
}

// runMessage is Argo's run message for the worst metric: the breached limit, then the metric's
// own (last measurement's) message.
func runMessage(metric string, phase v1alpha1.AnalysisPhase, reason, metricMsg string) string {
	msg := fmt.Sprintf("Metric %q assessed %s due to %s", metric, phase, reason)
	if metricMsg != "" {
		msg += fmt.Sprintf(": \"Error Message: %s\"", metricMsg)
	}
	return msg
}

func count(s *v1alpha1.RunSummary, p v1alpha1.AnalysisPhase) {
	s.Count++
	switch p {
	case v1alpha1.AnalysisPhaseSuccessful:
		s.Successful++
	case v1alpha1.AnalysisPhaseFailed:
		s.Failed++
	case v1alpha1.AnalysisPhaseInconclusive:
		s.Inconclusive++
	case v1alpha1.AnalysisPhaseError:
		s.Error++
	}
}

// terminateInFlight terminates measurements still running when the run ends early.
func (e *Engine) terminateInFlight(ctx context.Context, run *v1alpha1.AnalysisRun, now time.Time) {
	for _, m := range run.Spec.Metrics {
		r := findResult(run, m.Name)
		if r == nil || len(r.Measurements) == 0 || r.Measurements[len(r.Measurements)-1].FinishedAt != nil {
			continue
		}
		last := &r.Measurements[len(r.Measurements)-1]
		resolved, provider, err := e.provider(ctx, run, m)
		if err == nil {
			if ms, terr := provider.Terminate(ctx, run, resolved, *last); terr == nil {
				*last = ms
			}
		}
		if last.FinishedAt == nil {
			t := metav1.NewTime(now)
			last.FinishedAt = &t
			if !last.Phase.Completed() {
				last.Phase = v1alpha1.AnalysisPhaseSuccessful
				last.Message = "Metric Terminated"
			}
		}
		if !r.Phase.Completed() {
			r.Phase = v1alpha1.AnalysisPhaseSuccessful
		}
	}
}

func (e *Engine) requeueAfter(run *v1alpha1.AnalysisRun, now time.Time) time.Duration {
	if run.Status.Phase.Completed() {
		return 0
	}
	var next time.Time
	for _, m := range run.Spec.Metrics {
		at, ok := nextMeasurementAt(run, m, findResult(run, m.Name))
		if !ok {
			continue
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if next.IsZero() {
		return 0
	}
	if d := next.Sub(now); d > 0 {
		return d
	}
	return time.Millisecond
}
