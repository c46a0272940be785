package analysis

import (
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// TTLExpiry is when a completed run's spec.ttlStrategy lets it be deleted, as Argo's
// isAnalysisRunTtlExceeded: secondsAfterSuccess for a Successful run, secondsAfterFailure for a
// Failed one, else secondsAfterCompletion, counted from status.completedAt in whole seconds and
// exceeded once more than that many seconds have passed. ok is false when the run has no TTL
// (not completed, no ttlStrategy, no completedAt, or no value for its phase).
func TTLExpiry(run *v1alpha1.AnalysisRun) (time.Time, bool) {
	ttl := run.Spec.TTLStrategy
	if ttl == nil || !run.Status.Phase.Completed() || run.Status.CompletedAt == nil {
		return time.Time{}, false
	}
	var secs *int32
	switch {
	case run.Status.Phase == v1alpha1.AnalysisPhaseSuccessful && ttl.SecondsAfterSuccess != nil:
		secs = ttl.SecondsAfterSuccess
	case run.Status.Phase == v1alpha1.AnalysisPhaseFailed && ttl.SecondsAfterFailure != nil:
		secs = ttl.SecondsAfterFailure
	case ttl.SecondsAfterCompletion != nil:
		secs = ttl.SecondsAfterCompletion
	}
	if secs == nil {
		return time.Time{}, false
	}
	// int32(elapsed seconds) > ttl  ⇔  elapsed >= ttl+1 s
	return run.Status.CompletedAt.Add(time.Duration(*secs+1) * time.Second), true
}

// TTLExceeded reports whether the run's TTL has passed at now.
func TTLExceeded(run *v1alpha1.AnalysisRun, now time.Time) bool {
	t, ok := TTLExpiry(run)
	return ok && !now.Before(t)
}
