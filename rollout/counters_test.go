package rollout

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

// counterSet exposes what a CounterVec with the same labels would, and forgets an object's
// series.
func TestCounterSetExposesLikeACounterVec(t *testing.T) {
	set := newCounterSet("rollout_events_total", "Count of rollout events", "namespace", "name", "type", "reason")
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rollout_events_total", Help: "Count of rollout events"},
		[]string{"namespace", "name", "type", "reason"})
	for _, lv := range [][]string{{"ns", "web", "Normal", "RolloutUpdated"}, {"ns", "web", "Normal", "RolloutUpdated"},
		{"ns", "web", "Warning", "RolloutAborted"}, {"ns", "web-2", "Normal", "RolloutUpdated"}, {"other", "web", "Normal", "X"}} {
		set.inc(lv...)
		vec.WithLabelValues(lv...).Inc()
	}
	want, err := testutil.CollectAndFormat(vec, expfmt.TypeTextPlain, "rollout_events_total")
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CollectAndCompare(set, strings.NewReader(string(want))); err != nil {
		t.Error(err)
	}
	set.forget("ns", "web")
	if got := testutil.CollectAndCount(set); got != 2 {
		t.Errorf("%d series after forgetting ns/web, want 2 (ns/web-2 and other/web stay)", got)
	}
	if set.value("ns", "web-2", "Normal", "RolloutUpdated") != 1 || set.value("ns", "web", "Normal", "RolloutUpdated") != 0 {
		t.Error("forget dropped the wrong series")
	}
}
