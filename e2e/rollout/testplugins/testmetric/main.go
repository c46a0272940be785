// Command testmetric is the rollout e2e tests' metric-provider plugin. Each measurement reads
// its value from <--values>/<metric name> (or <--values>/default): a number, "error" for an
// Error measurement. The value is offered as result = [value] (a Prometheus-like vector) to the
// metric's successCondition/failureCondition, evaluated with expr as Argo's providers do. The
// resolved provider config of each call is appended to <--values>/calls.log.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

type provider struct {
	mu  sync.Mutex
	dir string
}

func (p *provider) InitPlugin(context.Context) error     { return nil }
func (p *provider) Type(context.Context) (string, error) { return "TestMetric", nil }

func (p *provider) value(metric string) (string, error) {
	for _, f := range []string{metric, "default"} {
		b, err := os.ReadFile(filepath.Join(p.dir, f))
		if err == nil {
			return strings.TrimSpace(string(b)), nil
		}
	}
	return "", errors.New("no value file")
}

func (p *provider) log(run *v1alpha1.AnalysisRun, m v1alpha1.Metric) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(p.dir, "calls.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	b, _ := json.Marshal(map[string]any{"run": run.Name, "metric": m.Name, "provider": m.Provider.Plugin, "pid": os.Getpid()})
	_, _ = f.Write(append(b, '\n'))
}

func (p *provider) Run(_ context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) (v1alpha1.Measurement, error) {
	p.log(run, m)
	now := metav1.Now()
	ms := v1alpha1.Measurement{StartedAt: &now, FinishedAt: &now}
	raw, err := p.value(m.Name)
	if err != nil || raw == "error" {
		ms.Phase, ms.Message = v1alpha1.AnalysisPhaseError, fmt.Sprintf("test metric error (%v)", err)
		return ms, nil
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		ms.Phase, ms.Message = v1alpha1.AnalysisPhaseError, err.Error()
		return ms, nil
	}
	ms.Value = "[" + raw + "]"
	ms.Phase, err = evaluate(m, []float64{v})
	if err != nil {
		ms.Phase, ms.Message = v1alpha1.AnalysisPhaseError, err.Error()
	}
	return ms, nil
}

// evaluate applies Argo's rule: success only → Failed when not met; failure only → Successful
// when not met; both and neither true → Inconclusive; neither set → Successful.
func evaluate(m v1alpha1.Metric, result []float64) (v1alpha1.AnalysisPhase, error) {
	env := map[string]any{"result": result}
	eval := func(cond string) (bool, error) {
		out, err := expr.Eval(cond, env)
		if err != nil {
			return false, err
		}
		b, ok := out.(bool)
		if !ok {
			return false, fmt.Errorf("condition %q is not boolean", cond)
		}
		return b, nil
	}
	var ok, bad bool
	var err error
	if m.SuccessCondition != "" {
		if ok, err = eval(m.SuccessCondition); err != nil {
			return "", err
		}
	}
	if m.FailureCondition != "" {
		if bad, err = eval(m.FailureCondition); err != nil {
			return "", err
		}
	}
	switch {
	case m.FailureCondition != "" && bad:
		return v1alpha1.AnalysisPhaseFailed, nil
	case m.SuccessCondition != "" && ok:
		return v1alpha1.AnalysisPhaseSuccessful, nil
	case m.SuccessCondition != "" && m.FailureCondition != "":
		return v1alpha1.AnalysisPhaseInconclusive, nil
	case m.SuccessCondition != "":
		return v1alpha1.AnalysisPhaseFailed, nil
	}
	return v1alpha1.AnalysisPhaseSuccessful, nil
}

func (p *provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, ms v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return ms, nil
}

func (p *provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, ms v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return ms, nil
}

func (p *provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

func (p *provider) GetMetadata(context.Context, v1alpha1.Metric) (map[string]string, error) {
	return nil, nil
}

func main() {
	fs := flag.NewFlagSet("testmetric", flag.ExitOnError)
	dir := fs.String("values", "", "directory of value files")
	_ = fs.String("name", "e2e/metric", "plugin name")
	_ = fs.Parse(os.Args[1:])
	logger := plugins.NewLogger("testmetric")
	plugins.ServeMetricProvider(context.Background(), &provider{dir: *dir}, logger)
}
