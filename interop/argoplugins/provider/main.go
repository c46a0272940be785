// Command provider is a metric-provider plugin served with Argo v1.10.0's own RPC server types;
// it echoes every call's arguments (Argo-typed, as JSON) to --echo. Interop test data.
package main

import (
	"flag"
	"time"

	"github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	goPlugin "github.com/hashicorp/go-plugin"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/interop/argoplugins"
)

type provider struct{ echo *argoplugins.Echo }

// Answer is the measurement every measuring call returns.
func answer(msg string) v1alpha1.Measurement {
	t := metav1.NewTime(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	phase := v1alpha1.AnalysisPhaseSuccessful
	if msg != "" {
		phase = v1alpha1.AnalysisPhaseError
	}
	return v1alpha1.Measurement{Phase: phase, Message: msg, Value: "42", StartedAt: &t, FinishedAt: &t, ResumeAt: &t,
		Metadata: map[string]string{"served-by": "argo"}}
}

func (p *provider) InitPlugin() types.RpcError {
	return types.RpcError{ErrorString: p.echo.Record("InitPlugin", nil)}
}
func (p *provider) Run(run *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	return answer(p.echo.Record("Run", rpc.RunArgs{AnalysisRun: run, Metric: m}))
}
func (p *provider) Resume(run *v1alpha1.AnalysisRun, m v1alpha1.Metric, ms v1alpha1.Measurement) v1alpha1.Measurement {
	return answer(p.echo.Record("Resume", rpc.TerminateAndResumeArgs{AnalysisRun: run, Metric: m, Measurement: ms}))
}
func (p *provider) Terminate(run *v1alpha1.AnalysisRun, m v1alpha1.Metric, ms v1alpha1.Measurement) v1alpha1.Measurement {
	return answer(p.echo.Record("Terminate", rpc.TerminateAndResumeArgs{AnalysisRun: run, Metric: m, Measurement: ms}))
}
func (p *provider) GarbageCollect(run *v1alpha1.AnalysisRun, m v1alpha1.Metric, limit int) types.RpcError {
	return types.RpcError{ErrorString: p.echo.Record("GarbageCollect", rpc.GarbageCollectArgs{AnalysisRun: run, Metric: m, Limit: limit})}
}
func (p *provider) Type() string { return "ArgoEchoProvider" }
func (p *provider) GetMetadata(m v1alpha1.Metric) map[string]string {
	if e := p.echo.Record("GetMetadata", rpc.GetMetadataArgs{Metric: m}); e != "" {
		return map[string]string{"error": e}
	}
	return map[string]string{"served-by": "argo", "metric": m.Name}
}

func main() {
	path := flag.String("echo", "", "file to append calls to")
	flag.Parse()
	goPlugin.Serve(&goPlugin.ServeConfig{
		HandshakeConfig: goPlugin.HandshakeConfig{ProtocolVersion: 1, MagicCookieKey: "ARGO_ROLLOUTS_RPC_PLUGIN", MagicCookieValue: "metricprovider"},
		Plugins:         map[string]goPlugin.Plugin{"RpcMetricProviderPlugin": &rpc.RpcMetricProviderPlugin{Impl: &provider{echo: &argoplugins.Echo{Path: *path}}}},
	})
}
