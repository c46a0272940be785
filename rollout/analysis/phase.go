package analysis

import (
	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// rank orders phases from best to worst as Argo does:
// Successful < Running < Pending < Inconclusive < Error < Failed.
func rank(p v1alpha1.AnalysisPhase) int {
	switch p {
	case v1alpha1.AnalysisPhaseSuccessful:
		return 0
	case v1alpha1.AnalysisPhaseRunning:
		return 1
	case v1alpha1.AnalysisPhasePending, "":
		return 2
	case v1alpha1.AnalysisPhaseInconclusive:
		return 3
	case v1alpha1.AnalysisPhaseError:
		return 4
	case v1alpha1.AnalysisPhaseFailed:
		return 5
	}
	return 2
}

// Worst returns the worse of two phases.
func Worst(a, b v1alpha1.AnalysisPhase) v1alpha1.AnalysisPhase {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// Bad reports whether a phase ends a run early (Failed, Error or Inconclusive).
func Bad(p v1alpha1.AnalysisPhase) bool {
	return p == v1alpha1.AnalysisPhaseFailed || p == v1alpha1.AnalysisPhaseError || p == v1alpha1.AnalysisPhaseInconclusive
}
