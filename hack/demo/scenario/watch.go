package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
	"github.com/nerve-rollouts/nerve/hack/demo/summary"
)

// poll calls fn every interval until it reports done, fails, or within passes.
func poll(ctx context.Context, interval, within time.Duration, what string, fn func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := fn(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not within %s", what, within)
		case <-t.C:
		}
	}
}

// waitStable waits until the first version is Healthy and returns its hash.
func (r *runner) waitStable(ctx context.Context, within time.Duration) (string, error) {
	var hash string
	var last *v1alpha1.Rollout
	err := poll(ctx, 250*time.Millisecond, within, "v1 Healthy", func(ctx context.Context) (bool, error) {
		ro, err := r.getRollout(ctx)
		if err != nil {
			return false, err
		}
		last = ro
		if ro.Status.Phase == v1alpha1.RolloutPhaseHealthy && ro.Status.StableRS != "" &&
			ro.Status.StableRS == ro.Status.CurrentPodHash && ro.Status.AvailableReplicas == *ro.Spec.Replicas {
			hash = ro.Status.StableRS
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		if last != nil {
			err = fmt.Errorf("%w (phase %s: %s)", err, last.Status.Phase, last.Status.Message)
		}
		return "", r.failWithLogs(err, controllerNameLabel)
	}
	return hash, r.logVersion(hash, false)
}

// waitTraffic waits until Prometheus has the proxy's message counter moving,
// so the first analysis does not measure an empty window.
func (r *runner) waitTraffic(ctx context.Context, within time.Duration) error {
	q := fmt.Sprintf(`sum(increase(mllp_messages_received_total{service=%q}[10s]))`, r.cfg.ServiceName)
	var v float64
	err := poll(ctx, time.Second, within, "proxy metrics in Prometheus", func(ctx context.Context) (bool, error) {
		got, ok, err := promScalar(ctx, r.cfg.PrometheusURL, q)
		if err != nil || !ok {
			return false, nil
		}
		v = got
		return v >= 100, nil
	})
	if err != nil {
		return r.failWithLogs(err, "nerve-mllp-proxy", "generator")
	}
	r.say("Prometheus sees the traffic: %s = %.0f", q, v)
	return nil
}

// waitBaseline waits (up to within) until the stable version alone meets
// the template's latency gate over a 10 s window (p99 ACK latency < 5 ms),
// so the canary does not start while the baseline itself is warming up; if
// it never settles, the demo says so and goes on (the analysis decides).
func (r *runner) waitBaseline(ctx context.Context, within time.Duration) error {
	q := fmt.Sprintf(`histogram_quantile(0.99, sum(rate(mllp_ack_latency_seconds_bucket{service=%q}[10s])) by (le))`, r.cfg.ServiceName)
	start := time.Now()
	var v float64
	err := poll(ctx, time.Second, within, "baseline", func(ctx context.Context) (bool, error) {
		got, ok, err := promScalar(ctx, r.cfg.PrometheusURL, q)
		if err != nil || !ok {
			return false, nil
		}
		v = got
		// a full 10 s window of steady traffic, under the 5 ms gate
		return time.Since(start) >= 10*time.Second && v < 0.005, nil
	})
	if err != nil {
		r.say("the baseline's p99 ACK latency is still %.2f ms after %s (a busy machine): shipping the new version anyway", v*1000, within)
		return nil
	}
	r.say("baseline: p99 ACK latency over 10s = %.2f ms (gate: < 5 ms)", v*1000)
	return nil
}

// promScalar runs an instant query and returns the first sample's value.
func promScalar(ctx context.Context, base, query string) (float64, bool, error) {
	u := strings.TrimRight(base, "/") + "/api/v1/query?query=" + url.QueryEscape(query)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, false, err
	}
	if len(body.Data.Result) == 0 {
		return 0, false, nil
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil, err
}

// waitCanaryHash waits until the controller reports the new pod-template hash.
func (r *runner) waitCanaryHash(ctx context.Context, stable string) (string, error) {
	var hash string
	err := poll(ctx, 200*time.Millisecond, 30*time.Second, "new pod-template hash", func(ctx context.Context) (bool, error) {
		ro, err := r.getRollout(ctx)
		if err != nil {
			return false, err
		}
		hash = ro.Status.CurrentPodHash
		return hash != "" && hash != stable, nil
	})
	if err != nil {
		return "", r.failWithLogs(err, controllerNameLabel)
	}
	return hash, r.logVersion(hash, true)
}

// currentWeight is the canary weight the controller last set, or the one
// the steps imply when the status has no traffic weights.
func currentWeight(ro *v1alpha1.Rollout) int32 {
	if w := ro.Status.Canary.Weights; w != nil {
		return w.Canary.Weight
	}
	if ro.Status.CurrentStepIndex == nil || ro.Spec.Strategy.Canary == nil {
		return 0
	}
	var weight int32
	for i, st := range ro.Spec.Strategy.Canary.Steps {
		if int32(i) > *ro.Status.CurrentStepIndex {
			break
		}
		if st.SetWeight != nil && int32(i) < *ro.Status.CurrentStepIndex {
			weight = *st.SetWeight
		}
	}
	return weight
}

// recordSteps logs a step event whenever the step index or weight changes.
// Once the new version is promoted (stable = current hash, not the old
// stable) its share is 100, whatever the router weights say.
func (r *runner) recordSteps(ctx context.Context, oldStable string) error {
	last := ""
	t := time.NewTicker(150 * time.Millisecond)
	defer t.Stop()
	for {
		ro, err := r.getRollout(ctx)
		if err == nil {
			var idx int32
			if ro.Status.CurrentStepIndex != nil {
				idx = *ro.Status.CurrentStepIndex
			}
			w := currentWeight(ro)
			switch {
			case ro.Status.Abort:
				w = 0
			case ro.Status.StableRS != "" && ro.Status.StableRS != oldStable && ro.Status.StableRS == ro.Status.CurrentPodHash:
				w = 100
			}
			key := fmt.Sprintf("%d/%d/%t", idx, w, ro.Status.Abort)
			if key != last {
				last = key
				detail := string(ro.Status.Phase)
				if ro.Status.Abort {
					detail = "aborted"
				}
				if err := r.log.Log(eventlog.Event{Kind: eventlog.KindStep, Step: idx, Weight: w, Phase: string(ro.Status.Phase), Detail: detail}); err != nil {
					return err
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// waitOutcome waits until the new version is Healthy and stable (promoted)
// or the rollout aborted back to the stable version.
func (r *runner) waitOutcome(ctx context.Context, stable, canary string) (string, string, error) {
	var result, detail string
	var last *v1alpha1.Rollout
	err := poll(ctx, 250*time.Millisecond, r.cfg.Timeout, "rollout outcome", func(ctx context.Context) (bool, error) {
		ro, err := r.getRollout(ctx)
		if err != nil {
			return false, err
		}
		last = ro
		st := ro.Status
		switch {
		case st.Phase == v1alpha1.RolloutPhaseHealthy && st.StableRS == canary && st.CurrentPodHash == canary:
			result, detail = summary.Healthy, fmt.Sprintf("new version %s promoted to stable at 100%%", canary)
			return true, nil
		case st.Abort && st.StableRS == stable && currentWeight(ro) == 0:
			result = summary.RolledBack
			detail = fmt.Sprintf("aborted, all traffic back on stable %s (phase %s: %s)", stable, st.Phase, st.Message)
			return true, nil
		}
		return false, nil
	})
	if err != nil && last != nil {
		r.say("no outcome: phase %s, step %v, message %q", last.Status.Phase, last.Status.CurrentStepIndex, last.Status.Message)
		return "Timeout", fmt.Sprintf("phase %s: %s", last.Status.Phase, last.Status.Message), nil
	}
	return result, detail, err
}

// recordAnalysis logs every AnalysisRun measurement (value and phase).
func (r *runner) recordAnalysis(ctx context.Context) error {
	runs, err := r.analysisRuns(ctx)
	if err != nil {
		return err
	}
	for _, ar := range runs {
		for _, mr := range ar.Status.MetricResults {
			for _, m := range mr.Measurements {
				ev := eventlog.Event{Kind: eventlog.KindAnalysis, Run: ar.Name, Metric: mr.Name,
					Value: measurementValue(m), Phase: string(mr.Phase)}
				if err := r.log.Log(ev); err != nil {
					return err
				}
			}
		}
		r.say("AnalysisRun %s: %s %s", ar.Name, ar.Status.Phase, ar.Status.Message)
	}
	return nil
}

// measurementValue is the value, or the phase for an Error/Failed with none.
func measurementValue(m v1alpha1.Measurement) string {
	v := m.Value
	if v == "" {
		v = "(" + string(m.Phase) + ")"
	} else if m.Phase != v1alpha1.AnalysisPhaseSuccessful {
		v += "(" + string(m.Phase) + ")"
	}
	return v
}

func sortRuns(runs []v1alpha1.AnalysisRun) {
	sort.SliceStable(runs, func(i, j int) bool {
		return runs[i].CreationTimestamp.Before(&runs[j].CreationTimestamp)
	})
}
