package evaluate

import (
	"math"
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

const (
	cSucc = "result[0] < 0.005"
	cFail = "result[0] >= 0.005"
	cTrue = "true"
	cNot  = "false"
)

func TestTruthTable(t *testing.T) {
	tests := []struct {
		name             string
		success, failure string
		want             v1alpha1.AnalysisPhase
	}{
		{"neither set", "", "", v1alpha1.AnalysisPhaseSuccessful},
		{"only success, true", cTrue, "", v1alpha1.AnalysisPhaseSuccessful},
		{"only success, false", cNot, "", v1alpha1.AnalysisPhaseFailed},
		{"only failure, true", "", cTrue, v1alpha1.AnalysisPhaseFailed},
		{"only failure, false", "", cNot, v1alpha1.AnalysisPhaseSuccessful},
		{"both, success true", cTrue, cNot, v1alpha1.AnalysisPhaseSuccessful},
		{"both, failure true", cNot, cTrue, v1alpha1.AnalysisPhaseFailed},
		{"both true: failure wins", cTrue, cTrue, v1alpha1.AnalysisPhaseFailed},
		{"both, neither true", cNot, cNot, v1alpha1.AnalysisPhaseInconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate([]float64{1}, tt.success, tt.failure)
			if got.Phase != tt.want || got.Err != nil {
				t.Fatalf("Evaluate(%q, %q) = %s, %v; want %s", tt.success, tt.failure, got.Phase, got.Err, tt.want)
			}
		})
	}
}

// TestArgoNoDataSemantics pins what Argo does today with an empty vector and with NaN; nerve's
// default (no policy) must behave the same.
func TestArgoNoDataSemantics(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name             string
		result           any
		success, failure string
		want             v1alpha1.AnalysisPhase
		wantErr          string
	}{
		{"empty vector, result[0]", []float64{}, cSucc, "", v1alpha1.AnalysisPhaseError, "metric result is nil or empty"},
		{"empty vector, failure only result[0]", []float64{}, "", cFail, v1alpha1.AnalysisPhaseError, "could not evaluate failureCondition"},
		{"empty vector, len guard passes", []float64{}, "len(result) == 0 || result[0] < 0.005", "", v1alpha1.AnalysisPhaseSuccessful, ""},
		{"empty vector, guarded both", []float64{}, "len(result) > 0 && result[0] < 0.005", "len(result) > 0 && result[0] >= 0.005", v1alpha1.AnalysisPhaseInconclusive, ""},
		{"empty vector is not nil", []float64{}, "isNil(result)", "", v1alpha1.AnalysisPhaseFailed, ""},
		{"NaN vector, success only", []float64{nan}, cSucc, "", v1alpha1.AnalysisPhaseFailed, ""},
		{"NaN vector, failure only passes", []float64{nan}, "", cFail, v1alpha1.AnalysisPhaseSuccessful, ""},
		{"NaN vector, both", []float64{nan}, cSucc, cFail, v1alpha1.AnalysisPhaseInconclusive, ""},
		{"NaN scalar, isNaN", nan, "isNaN(result)", "", v1alpha1.AnalysisPhaseSuccessful, ""},
		{"vector in range", []float64{0.0012}, cSucc, cFail, v1alpha1.AnalysisPhaseSuccessful, ""},
		{"vector out of range", []float64{0.012}, cSucc, cFail, v1alpha1.AnalysisPhaseFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.result, tt.success, tt.failure)
			if got.Phase != tt.want {
				t.Fatalf("phase = %s (err %v), want %s", got.Phase, got.Err, tt.want)
			}
			if tt.wantErr == "" && got.Err != nil {
				t.Fatalf("unexpected error %v", got.Err)
			}
			if tt.wantErr != "" && (got.Err == nil || !strings.Contains(got.Err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want it to contain %q", got.Err, tt.wantErr)
			}
		})
	}
}

func TestConditionEnv(t *testing.T) {
	tests := []struct {
		result    any
		condition string
		want      bool
		wantErr   string
	}{
		{4.7, "asInt(result) == 4", true, ""},
		{"12", "asInt(result) == 12", true, ""},
		{"1.5", "asFloat(result) == 1.5", true, ""},
		{int64(3), "asFloat(result) == 3.0", true, ""},
		{"x", "asInt(result) == 1", false, "invalid syntax"},
		{[]float64{1}, "asFloat(result) == 1.0", false, "asFloat() not supported on []float64 [1]"},
		{math.Inf(1), "isInf(result)", true, ""},
		{[]float64{math.Inf(-1)}, "isInf(result[0])", true, ""},
		{math.NaN(), "isNaN(result)", true, ""},
		{nil, "isNil(result)", true, ""},
		{nil, "default(result, 7) == 7", true, ""},
		{2.0, "default(result, 7) == 2.0", true, ""},
		{2.0, "isNil(result)", false, ""},
		{func() *float64 { f := 0.25; return &f }(), "result == 0.25", true, ""},
		{[]float64{1, 2}, "len(result) == 2 && result[1] == 2", true, ""},
		{1.0, "result + 1", false, "expected bool, but got float64"},
		{1.0, "result <", false, "unexpected token"},
	}
	for _, tt := range tests {
		t.Run(tt.condition, func(t *testing.T) {
			got, err := EvalCondition(tt.result, tt.condition)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("EvalCondition(%v, %q) = %t, %v; want %t", tt.result, tt.condition, got, err, tt.want)
			}
		})
	}
}

func TestEvalTime(t *testing.T) {
	if _, err := EvalTime("now() - duration('5m')"); err != nil {
		t.Fatalf("EvalTime: %v", err)
	}
	if _, err := EvalTime("1"); err == nil || !strings.Contains(err.Error(), "expected time.Time") {
		t.Fatalf("EvalTime(1) err = %v", err)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	result := []float64{0.0012}
	for b.Loop() {
		if out := Evaluate(result, cSucc, cFail); out.Phase != v1alpha1.AnalysisPhaseSuccessful {
			b.Fatalf("phase %s", out.Phase)
		}
	}
}
