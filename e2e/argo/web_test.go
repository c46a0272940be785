//go:build e2e

package argo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/metricprovider/web"
)

// newWebSuite is newSuite with nerve-web registered as nerve/web (and nerve/prometheus, as every
// suite has it) in the namespace's argo-rollouts-config, before the chosen controller starts.
func newWebSuite(t *testing.T, kind controllerKind) *suite {
	t.Helper()
	env := framework.New(t)
	s := &suite{t: t, env: env, ns: env.Namespace}
	data := map[string]string{"metricProviderPlugins": pluginEntry(t, promPlugin, "nerve-prometheus") + pluginEntry(t, web.DefaultName, "nerve-web")}
	b, err := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "argo-rollouts-config", "namespace": s.ns},
		"data":     data,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.env.Apply(t, string(b))
	if kind == argoController {
		s.ensureExperimentCRD()
		s.startArgo()
	} else {
		s.startNerve()
	}
	return s
}

// webEndpoint is a real HTTP endpoint on 127.0.0.1 answering {"checks":{"errorRate": value}}.
func webEndpoint(t *testing.T, value float64) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, fmt.Sprintf(`{"checks":{"errorRate":%g}}`, value))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// webGateSteps: 50%, then the web-gate step analysis.
const webGateSteps = `      - setWeight: 50
      - analysis:
          templates: [{templateName: web-gate}]
`

// webTemplateYAML is the web-gate template: two measurements of the endpoint's error rate on
// nerve/web, 1s apart, passing below 0.005.
func webTemplateYAML(url string) string {
	return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: web-gate
spec:
  metrics:
  - name: error-rate
    interval: 1s
    count: 2
    failureLimit: 0
    successCondition: "result < 0.005"
    provider:
      plugin:
        %s:
          url: %q
          jsonPath: "{$.checks.errorRate}"
          timeoutSeconds: 5
`, web.DefaultName, url+"/health")
}

// runWebAnalysis deploys v1 gated by the web-gate template against an endpoint answering
// c.value, then updates to v2 and returns what the rollout and its run show.
func runWebAnalysis(t *testing.T, kind controllerKind, c analysisCase) outcome {
	t.Helper()
	s := newWebSuite(t, kind)
	s.env.Apply(t, webTemplateYAML(webEndpoint(t, c.value)))
	s.env.Apply(t, rolloutYAML("gated", "", webGateSteps))
	var v1 string
	s.waitRollout("gated", 90*time.Second, "initial deploy healthy", healthyAt(&v1))
	s.setImage("gated", "v2")
	return s.analysisOutcome("gated", v1, c)
}

// TestWebProviderArgoVsNerve: the nerve-web plugin binary loaded by the real Argo controller and
// by nerve's loop gates a canary step analysis on a real HTTP endpoint: a good error rate is
// promoted and a bad one aborts, with the same run and rollout phases, measurement values and
// messages under both controllers.
func TestWebProviderArgoVsNerve(t *testing.T) {
	compareOutcomes(t, false, gateCases(), runWebAnalysis)
}
