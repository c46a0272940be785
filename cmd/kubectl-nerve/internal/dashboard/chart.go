package dashboard

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH, chartPad = 260.0, 56.0, 6.0
)

// chart is a metric's measurements as an inline SVG: a line through the numeric values, a dot
// per measurement (coloured by its phase) and the condition's threshold as a dashed line.
type chart struct {
	W, H      float64
	Line      string
	Dots      []dot
	Threshold *float64
	Min, Max  string
}

type dot struct {
	X, Y         float64
	Class, Title string
}

// firstNumber is the first number in a measurement value ("[0.0031]", "0.5", "{42}").
func firstNumber(s string) (float64, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= '0' && c <= '9') || ((c == '-' || c == '.') && i+1 < len(s) && (s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == '.')) {
			j := i + 1
			for j < len(s) && strings.IndexByte("0123456789.eE+-", s[j]) >= 0 {
				j++
			}
			for ; j > i; j-- { // the longest prefix that parses ("1e" → "1")
				if f, err := strconv.ParseFloat(s[i:j], 64); err == nil {
					return f, true
				}
			}
		}
	}
	return 0, false
}

// threshold is the number a condition compares against ("result[0] < 0.005" → 0.005).
func threshold(condition string) (float64, bool) {
	i := strings.IndexAny(condition, "<>=")
	if i < 0 {
		return 0, false
	}
	rest := strings.TrimLeft(condition[i:], "<>=! ")
	if rest == "" || strings.IndexByte("0123456789-.", rest[0]) < 0 {
		return 0, false
	}
	return firstNumber(rest)
}

// newChart plots ms; nil when no measurement has a numeric value. condition supplies the
// threshold (the first number compared against).
func newChart(ms []v1alpha1.Measurement, condition string) *chart {
	type pt struct {
		v     float64
		phase string
		title string
	}
	var pts []pt
	for i, m := range ms {
		v, ok := firstNumber(m.Value)
		if !ok {
			continue
		}
		at := ""
		if m.FinishedAt != nil {
			at = " at " + m.FinishedAt.UTC().Format(time.TimeOnly)
		}
		pts = append(pts, pt{v, string(m.Phase), fmt.Sprintf("#%d %s %s%s", i+1, m.Value, m.Phase, at)})
	}
	if len(pts) == 0 {
		return nil
	}
	lo, hi := pts[0].v, pts[0].v
	for _, p := range pts {
		lo, hi = min(lo, p.v), max(hi, p.v)
	}
	var th *float64
	if f, ok := threshold(condition); ok {
		th = &f
		lo, hi = min(lo, f), max(hi, f)
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	y := func(v float64) float64 { return chartH - chartPad - (v-lo)/(hi-lo)*(chartH-2*chartPad) }
	c := &chart{W: chartW, H: chartH, Min: strconv.FormatFloat(lo, 'g', 4, 64), Max: strconv.FormatFloat(hi, 'g', 4, 64)}
	step := 0.0
	if len(pts) > 1 {
		step = (chartW - 2*chartPad) / float64(len(pts)-1)
	}
	var line []string
	for i, p := range pts {
		d := dot{X: chartPad + float64(i)*step, Y: y(p.v), Class: phaseClass(p.phase), Title: p.title}
		c.Dots = append(c.Dots, d)
		line = append(line, fmt.Sprintf("%.1f,%.1f", d.X, d.Y))
	}
	c.Line = strings.Join(line, " ")
	if th != nil {
		ty := y(*th)
		c.Threshold = &ty
	}
	return c
}

// phaseClass maps a rollout, ReplicaSet, pod or analysis status to a CSS class.
func phaseClass(s string) string {
	switch s {
	case "Healthy", "Successful", "Running", "Completed":
		return "ok"
	case "Degraded", "Failed", "Error", "ReplicaFailure", "InvalidSpec":
		return "bad"
	case "Paused", "Inconclusive":
		return "paused"
	case "Progressing", "Pending":
		return "progress"
	}
	return "neutral"
}
