package analysis

import (
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
