package prometheus

import (
	"fmt"
	"math"
	"strings"

	"github.com/prometheus/common/model"
)

// Result is a Prometheus response mapped the way Argo maps it.
type Result struct {
	// Value is what conditions see as `result`: float64 for a scalar, []float64 (never nil) for
	// a vector or a flattened range-query matrix.
	Value any
	// Text is Measurement.Value: "0.5" for a scalar, "[0.0012,0.5]" for a vector.
	Text string
	// Empty is true for a vector or matrix without samples.
	Empty bool
	// NaN is true when the scalar or any sample is NaN.
	NaN bool
}

// MapResult maps a query response. rangeQuery says whether the query was a range query, the only
// case in which a matrix is accepted (and flattened, as Argo does).
func MapResult(v model.Value, rangeQuery bool) (Result, error) {
	switch val := v.(type) {
	case *model.Scalar:
		if val == nil {
			return Result{}, fmt.Errorf("prometheus returned an empty scalar")
		}
		f := float64(val.Value)
		return Result{Value: f, Text: val.Value.String(), NaN: math.IsNaN(f)}, nil
	case model.Vector:
		samples := make([]model.SampleValue, 0, len(val))
		for _, s := range val {
			if s != nil {
				samples = append(samples, s.Value)
			}
		}
		return sliceResult(samples), nil
	case model.Matrix:
		if !rangeQuery {
			return Result{}, fmt.Errorf("Prometheus metric type not supported: the instant query returned a range vector (matrix); use an instant vector or set rangeQuery")
		}
		var samples []model.SampleValue
		for _, series := range val {
			if series != nil {
				for _, p := range series.Values {
					samples = append(samples, p.Value)
				}
			}
		}
		return sliceResult(samples), nil
	case nil:
		return Result{}, fmt.Errorf("Prometheus metric type not supported: empty response")
	}
	return Result{}, fmt.Errorf("Prometheus metric type not supported: %s result (want a scalar or an instant vector)", v.Type())
}

func sliceResult(samples []model.SampleValue) Result {
	floats := make([]float64, 0, len(samples))
	texts := make([]string, 0, len(samples))
	hasNaN := false
	for _, s := range samples {
		f := float64(s)
		hasNaN = hasNaN || math.IsNaN(f)
		floats = append(floats, f)
		texts = append(texts, s.String())
	}
	return Result{Value: floats, Text: "[" + strings.Join(texts, ",") + "]", Empty: len(floats) == 0, NaN: hasNaN}
}
