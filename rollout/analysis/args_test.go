package analysis

import (
	"slices"
	"testing"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func TestEffectiveCount(t *testing.T) {
	if n := EffectiveCount(v1alpha1.Metric{}); n != 1 {
		t.Errorf("no interval is one measurement, got %d", n)
	}
	if n := EffectiveCount(v1alpha1.Metric{Interval: "1m"}); n != 0 {
		t.Errorf("interval without count is unbounded, got %d", n)
	}
}

func TestArgRefsAndSubstitute(t *testing.T) {
	q := `rate(x{service="{{args.service-name}}", env="{{ args.env }}"}[5m])`
	if refs := ArgRefs(q); len(refs) != 2 || refs[0] != "service-name" || refs[1] != "env" {
		t.Errorf("refs %v", refs)
	}
	if got := SubstituteString(q, map[string]string{"service-name": "mllp", "env": "prod"}); got != `rate(x{service="mllp", env="prod"}[5m])` {
		t.Errorf("substitute %q", got)
	}
}

func TestDryRunAndRetentionMatchAsArgo(t *testing.T) {
	metrics := []v1alpha1.Metric{{Name: "ack-latency"}, {Name: "error-rate"}, {Name: "error-budget"}}
	tests := []struct {
		rule    string
		want    []string
		wantErr string
	}{
		{".*", []string{"ack-latency", "error-budget", "error-rate"}, ""},
		{"error", []string{"error-budget", "error-rate"}, ""}, // unanchored
		{"^ack-latency$", []string{"ack-latency"}, ""},
		{"cpu", nil, "dryRun[0]: Rule didn't match any metric name(s)"},
		{"*", nil, "dryRun[0]: Rule didn't match any metric name(s)"}, // not a regular expression
	}
	for _, tt := range tests {
		got, err := DryRunMetrics([]v1alpha1.DryRun{{MetricName: tt.rule}}, metrics)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%q: error %v, want %q", tt.rule, err, tt.wantErr)
			}
			continue
		}
		var names []string
		for n := range got {
			names = append(names, n)
		}
		slices.Sort(names)
		if err != nil || !slices.Equal(names, tt.want) {
			t.Errorf("%q: %v %v, want %v", tt.rule, names, err, tt.want)
		}
	}
	keep, err := RetentionMetrics([]v1alpha1.MeasurementRetention{{MetricName: ".*", Limit: 5}, {MetricName: "^error-rate$", Limit: 50}}, metrics)
	if err != nil || keep["error-rate"].Limit != 50 || keep["ack-latency"].Limit != 5 {
		t.Errorf("retention %v %v: the last matching rule wins", keep, err)
	}
	if _, err := RetentionMetrics([]v1alpha1.MeasurementRetention{{MetricName: "x"}}, metrics); err == nil ||
		err.Error() != "measurementRetention[0]: Rule didn't match any metric name(s)" {
		t.Errorf("retention without a match: %v", err)
	}
}
