package conformance

import (
	"context"
	"fmt"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// maxResumes bounds how often functional mode resumes a Running measurement.
const maxResumes = 10

// routerPass calls the 8 traffic-router methods in the controller's order.
func (s *suite) routerPass(ctx context.Context, pass string, withInit bool) {
	ro, w := Rollout(s.opts), s.opts.Weight
	r := func() plugins.TrafficRouter { return s.proc.TrafficRouter() }
	if withInit {
		err := r().InitPlugin(ctx)
		ok, d := s.verdict(ctx, err, withInit, "")
		s.note(plugins.MethodInitPlugin, pass, ok, d)
	}
	typ, err := r().Type(ctx)
	ok, d := s.verdict(ctx, err, withInit, emptyType(typ))
	s.note(plugins.MethodType, pass, ok, d)
	s.call(ctx, pass, withInit, plugins.MethodUpdateHash, r().UpdateHash(ctx, ro, "c0ffee", "5ab1e", nil))
	s.call(ctx, pass, withInit, plugins.MethodSetWeight, r().SetWeight(ctx, ro, w, nil))
	s.call(ctx, pass, withInit, plugins.MethodSetHeaderRoute, r().SetHeaderRoute(ctx, ro, HeaderRouteStep()))
	s.call(ctx, pass, withInit, plugins.MethodSetMirrorRoute, r().SetMirrorRoute(ctx, ro, MirrorRouteStep()))
	v, err := r().VerifyWeight(ctx, ro, w, nil)
	problem := ""
	if v != plugins.Verified {
		problem = fmt.Sprintf("VerifyWeight(%d) after SetWeight(%d) = %s, want Verified", w, w, v)
	}
	ok, d = s.verdict(ctx, err, withInit, problem)
	s.note(plugins.MethodVerifyWeight, pass, ok, d)
	s.call(ctx, pass, withInit, plugins.MethodRemoveManagedRoutes, r().RemoveManagedRoutes(ctx, ro))
	if s.opts.Functional && withInit && !s.proc.Exited(0) {
		_ = r().SetWeight(ctx, ro, 0, nil) // leave the route as it was (all traffic to stable)
	}
}

// call notes a call whose only outcome is an error.
func (s *suite) call(ctx context.Context, pass string, withInit bool, method string, err error) {
	ok, d := s.verdict(ctx, err, withInit, "")
	s.note(method, pass, ok, d)
}

// emptyType is the functional problem of a Type answer.
func emptyType(typ string) string {
	if typ == "" {
		return "Type returned an empty string"
	}
	return ""
}

// providerPass calls the 7 metric-provider methods in the controller's order.
func (s *suite) providerPass(ctx context.Context, pass string, withInit bool) {
	run, metric := AnalysisRun(s.opts), Metric(s.opts)
	m := func() plugins.MetricProvider { return s.proc.MetricProvider() }
	if withInit {
		ok, d := s.verdict(ctx, m().InitPlugin(ctx), withInit, "")
		s.note(plugins.MethodInitPlugin, pass, ok, d)
	}
	typ, err := m().Type(ctx)
	ok, d := s.verdict(ctx, err, withInit, emptyType(typ))
	s.note(plugins.MethodType, pass, ok, d)
	md, err := m().GetMetadata(ctx, metric)
	problem := ""
	if e, bad := md["error"]; bad {
		problem = "GetMetadata reported an error: " + e
	}
	ok, d = s.verdict(ctx, err, withInit, problem)
	s.note(plugins.MethodGetMetadata, pass, ok, d)
	ms, err := m().Run(ctx, run, metric)
	ok, d = s.verdict(ctx, err, withInit, s.runProblem(ctx, run, metric, &ms))
	s.note(plugins.MethodRun, pass, ok, describe(ms, d))
	in := inFlight(ms)
	res, err := m().Resume(ctx, run, metric, in)
	ok, d = s.verdict(ctx, err, withInit, errorPhase(res))
	s.note(plugins.MethodResume, pass, ok, d)
	res, err = m().Terminate(ctx, run, metric, in)
	ok, d = s.verdict(ctx, err, withInit, errorPhase(res))
	s.note(plugins.MethodTerminate, pass, ok, d)
	s.call(ctx, pass, withInit, plugins.MethodGarbageCollect, m().GarbageCollect(ctx, run, metric, 10))
}

// runProblem is the functional problem of a Run answer. A Running measurement is resumed
// (honouring ResumeAt, at most maxResumes times) until it finishes.
func (s *suite) runProblem(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric, ms *v1alpha1.Measurement) string {
	for i := 0; s.opts.Functional && ms.Phase == v1alpha1.AnalysisPhaseRunning && i < maxResumes; i++ {
		wait := time.Second
		if ms.ResumeAt != nil {
			wait = min(max(time.Until(ms.ResumeAt.Time), 0), 5*time.Second)
		}
		select {
		case <-ctx.Done():
			return ctx.Err().Error()
		case <-time.After(wait):
		}
		next, err := s.proc.MetricProvider().Resume(ctx, run, metric, *ms)
		if err != nil {
			return "Resume of the running measurement: " + err.Error()
		}
		*ms = next
	}
	switch ms.Phase {
	case v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseInconclusive:
		return ""
	}
	return fmt.Sprintf("Run returned phase %q (message %q), want a finished measurement (Successful, Failed or Inconclusive)", ms.Phase, ms.Message)
}

// errorPhase is the functional problem of a Resume/Terminate answer.
func errorPhase(ms v1alpha1.Measurement) string {
	if ms.Phase == v1alpha1.AnalysisPhaseError {
		return "measurement phase Error: " + ms.Message
	}
	return ""
}

// describe adds the measurement's phase and value to a Run detail.
func describe(ms v1alpha1.Measurement, detail string) string {
	if ms.Phase == "" {
		return detail
	}
	return fmt.Sprintf("%s [phase=%s value=%q]", detail, ms.Phase, ms.Value)
}

// inFlight turns Run's answer into the in-flight measurement Resume/Terminate get.
func inFlight(ms v1alpha1.Measurement) v1alpha1.Measurement {
	if ms.StartedAt == nil {
		ms.StartedAt = ptr(nowTime())
	}
	return ms
}
