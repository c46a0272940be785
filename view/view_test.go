package view

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func i32(v int32) *int32 { return &v }

func TestTimeLeft(t *testing.T) {
	five := intstr.FromInt32(5)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fin := metav1.NewTime(now.Add(-20 * time.Second))
	run := &v1alpha1.AnalysisRun{Status: v1alpha1.AnalysisRunStatus{Phase: v1alpha1.AnalysisPhaseRunning}}
	m := v1alpha1.Metric{Name: "m", Interval: "1m", Count: &five}
	mr := &v1alpha1.MetricResult{Phase: v1alpha1.AnalysisPhaseRunning, Measurements: []v1alpha1.Measurement{{FinishedAt: &fin}, {FinishedAt: &fin}}}
	if got := timeLeft(run, m, mr, now); got != "2m40s" {
		t.Errorf("time left %q", got)
	}
}
