package prometheus

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/common/model"
)

func TestMapResult(t *testing.T) {
	nan := model.SampleValue(math.NaN())
	tests := []struct {
		name    string
		in      model.Value
		rng     bool
		want    Result
		wantErr string
	}{
		{"scalar", &model.Scalar{Value: 0.25}, false, Result{Value: 0.25, Text: "0.25"}, ""},
		{"scalar NaN", &model.Scalar{Value: nan}, false, Result{Value: math.NaN(), Text: "NaN", NaN: true}, ""},
		{"vector", model.Vector{{Value: 0.0012}, nil, {Value: 2}}, false, Result{Value: []float64{0.0012, 2}, Text: "[0.0012,2]"}, ""},
		{"empty vector", model.Vector{}, false, Result{Value: []float64{}, Text: "[]", Empty: true}, ""},
		{"vector with NaN", model.Vector{{Value: nan}}, false, Result{Value: []float64{math.NaN()}, Text: "[NaN]", NaN: true}, ""},
		{"matrix (range query)", model.Matrix{{Values: []model.SamplePair{{Value: 1}, {Value: 2}}}, nil}, true, Result{Value: []float64{1, 2}, Text: "[1,2]"}, ""},
		{"empty matrix (range query)", model.Matrix{}, true, Result{Value: []float64{}, Text: "[]", Empty: true}, ""},
		{"matrix (instant query)", model.Matrix{}, false, Result{}, "range vector (matrix)"},
		{"string", &model.String{Value: "x"}, false, Result{}, "Prometheus metric type not supported: string result"},
		{"nil", nil, false, Result{}, "empty response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MapResult(tt.in, tt.rng)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateNaNs()); diff != "" {
				t.Fatalf("MapResult (-want +got):\n%s", diff)
			}
			if s, ok := got.Value.([]float64); ok && s == nil {
				t.Fatal("a vector result must be a non-nil slice (Argo's isNil(result) is false for an empty vector)")
			}
		})
	}
}
