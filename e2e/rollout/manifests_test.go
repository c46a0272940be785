//go:build e2e

package rollout

import (
	"fmt"
	"strings"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// rolloutYAML is a Rollout of pause-container pods labelled app=<name>; canary is the YAML
// body under spec.strategy.canary, indented by 6 spaces.
func rolloutYAML(name string, replicas int, canary string) string {
	return framework.TestRollout{Name: name, Replicas: replicas}.YAML("    canary:\n" + canary)
}

// trafficCanary is a canary body routed through the recording router plugin.
func trafficCanary(name, steps string, extra ...string) string {
	return fmt.Sprintf(`      canaryService: %[1]s-canary
      stableService: %[1]s-stable
      scaleDownDelaySeconds: 1
      abortScaleDownDelaySeconds: 1
      trafficRouting:
        plugins:
          %[2]s: {}
%[4]s      steps:
%[3]s`, name, routerName, steps, strings.Join(extra, ""))
}

// templateYAML is an AnalysisTemplate with one test-plugin metric.
func templateYAML(name, metric, success, failure string, count int, failureLimit int) string {
	cond := ""
	if success != "" {
		cond += fmt.Sprintf("    successCondition: %q\n", success)
	}
	if failure != "" {
		cond += fmt.Sprintf("    failureCondition: %q\n", failure)
	}
	return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: %s
spec:
  args:
  - name: service
  metrics:
  - name: %s
    interval: 1s
    count: %d
    failureLimit: %d
%s    provider:
      plugin:
        %s:
          query: 'health{service="{{args.service}}"}'
`, name, metric, count, failureLimit, cond, metricName)
}
