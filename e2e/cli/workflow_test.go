//go:build e2e

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

const workflowManifest = `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: mllp-health-check}
spec:
  args: [{name: service-name}]
  metrics:
  - name: ack-latency
    interval: 1s
    count: 3
    successCondition: result[0] < 0.005
    provider:
      plugin:
        e2e/metric: {query: 'histogram_quantile(0.99, sum(rate(mllp_ack_latency_seconds_bucket{service="{{args.service-name}}"}[5m])) by (le))'}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: mllp-listener}
spec:
  replicas: 4
  selector: {matchLabels: {app: mllp-listener}}
  template:
    metadata: {labels: {app: mllp-listener}}
    spec:
      containers: [{name: listener, image: "registry.local/mllp-listener:1.4.1"}]
  strategy:
    canary:
      steps:
      - setWeight: 25
      - pause: {}
      - analysis:
          templates: [{templateName: mllp-health-check}]
          args: [{name: service-name, value: mllp-listener}]
      - setWeight: 50
      - pause: {}
`

const ro = "mllp-listener"

// registerTestMetric writes argo-rollouts-config with `kubectl nerve plugins config` (real
// sha256, file:// location), adding the plugin's --values argument.
func registerTestMetric(t *testing.T, env *framework.Env, c *cli, pluginDir, valuesDir string) {
	t.Helper()
	r := c.must(0, "plugins", "config", "--dir", pluginDir, "--name", "testmetric=e2e/metric", "--config-namespace", c.ns)
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal([]byte(r.Out), &cm); err != nil {
		t.Fatalf("plugins config output: %v\n%s", err, r.Out)
	}
	var entries []map[string]any
	if err := yaml.Unmarshal([]byte(cm.Data["metricProviderPlugins"]), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("metricProviderPlugins: %v\n%s", err, r.Out)
	}
	if s, _ := entries[0]["sha256"].(string); len(s) != 64 {
		t.Fatalf("sha256 %q", s)
	}
	entries[0]["args"] = []string{"--values", valuesDir}
	b, err := yaml.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["metricProviderPlugins"] = string(b)
	out, err := yaml.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	env.Apply(t, string(out))
}

// TestWorkflow drives a real canary through every kubectl nerve command, as kubectl plugin.
func TestWorkflow(t *testing.T) {
	env := framework.New(t)
	helpers := t.TempDir()
	c := &cli{t: t, path: pluginPath(t, helpers), ns: env.Namespace}
	pluginDir := testMetricPlugins(t)
	values := t.TempDir()
	if err := os.WriteFile(filepath.Join(values, "default"), []byte("0.0031"), 0o644); err != nil {
		t.Fatal(err)
	}
	registerTestMetric(t, env, c, pluginDir, values)
	framework.StartController(t, env.Namespace)
	env.Apply(t, workflowManifest)

	t.Run("first revision becomes healthy", func(t *testing.T) {
		c.must(0, "status", ro, "--until", "healthy", "--timeout", "90s")
		c.must(0, "status", ro, "--until", "completed", "--watch=false")
	})
	t.Run("set image starts a canary that pauses", func(t *testing.T) {
		contains(t, c.must(0, "set", "image", ro, "listener=registry.local/mllp-listener:1.4.2"), "image updated")
		r := c.must(0, "get", "rollout", ro, "-w", "--until", "paused", "--timeout", "90s")
		contains(t, r, "rollout/"+ro, "Paused", "step=1/5")
		r = c.must(0, "get", "rollout", ro)
		contains(t, r, "॥ Paused", "Step:          1/5", "SetWeight:     25", "# revision:2", "canary", "stable", "mllp-listener:1.4.2")
		t.Logf("paused canary:\n%s", r.Out)
		if got := c.must(0, "get", "rollout", ro, "-o", "jsonpath={.status.currentStepIndex}").Out; got != "1" {
			t.Fatalf("currentStepIndex %q", got)
		}
		contains(t, c.must(0, "list", "rollouts", "--waiting"), ro, "1/5")
		contains(t, c.must(0, "list", "rollouts", "-o", "name"), "rollout.argoproj.io/"+ro)
		contains(t, c.must(0, "traffic", ro), "no trafficRouting plugins")
		c.must(ExitTimeout, "status", ro, "--until", "healthy", "--timeout", "2s")
	})
	t.Run("pause and resume", func(t *testing.T) {
		c.must(0, "pause", ro)
		if got := c.must(0, "get", "rollout", ro, "-o", "jsonpath={.spec.paused}").Out; got != "true" {
			t.Fatalf("spec.paused %q", got)
		}
		c.must(0, "resume", ro)
		if got := c.must(0, "get", "rollout", ro, "-o", "jsonpath={.spec.paused}").Out; got != "false" {
			t.Fatalf("spec.paused after resume %q", got)
		}
	})
	t.Run("promote runs the analysis step", func(t *testing.T) {
		r := c.must(0, "promote", ro, "--dry-run")
		contains(t, r, "(dry run) ends the pause", "analysis mllp-health-check")
		c.must(0, "promote", ro)
		c.must(0, "status", ro, "--until", "step=4", "--timeout", "90s")
		c.must(0, "status", ro, "--until", "paused", "--timeout", "60s")
		r = c.must(0, "get", "rollout", ro)
		contains(t, r, "α "+ro, "AnalysisRun", "▸ ack-latency", "[0.0031] vs result[0] < 0.005 (3/3)", "Step:          4/5")
		t.Logf("paused canary with its AnalysisRun:\n%s", r.Out)
		r = c.must(0, "analysis", ro)
		contains(t, r, "ack-latency", "[0.0031]", `service="mllp-listener"`, "✔ Successful")
		t.Logf("analysis:\n%s", r.Out)
	})
	t.Run("abort degrades, retry restarts", func(t *testing.T) {
		c.must(0, "abort", ro)
		c.must(ExitDegraded, "status", ro, "--until", "healthy", "--timeout", "60s")
		c.must(0, "retry", ro)
		c.must(0, "status", ro, "--until", "paused", "--timeout", "90s")
	})
	t.Run("promote --full completes", func(t *testing.T) {
		contains(t, c.must(0, "promote", ro, "--full", "--dry-run"), "skips step")
		c.must(0, "promote", ro, "--full")
		c.must(0, "status", ro, "--until", "completed", "--timeout", "90s")
	})
	t.Run("undo and restart", func(t *testing.T) {
		c.must(0, "undo", ro, "--to-revision", "1")
		if got := c.must(0, "get", "rollout", ro, "-o", "jsonpath={.spec.template.spec.containers[0].image}").Out; got != "registry.local/mllp-listener:1.4.1" {
			t.Fatalf("image after undo %q", got)
		}
		c.must(0, "status", ro, "--until", "paused", "--timeout", "90s")
		c.must(0, "restart", ro, "--in", "1h")
		if got := c.must(0, "get", "rollout", ro, "-o", "jsonpath={.spec.restartAt}").Out; got == "" {
			t.Fatal("spec.restartAt not set")
		}
	})
	t.Run("plugins, doctor, lint, completion, version", func(t *testing.T) {
		r := c.must(0, "plugins", "verify", "--dir", pluginDir, "--name", "testmetric=e2e/metric", "--registry-namespace", env.Namespace)
		contains(t, r, "e2e/metric", "metricprovider", "sha256 matches")
		r = c.must(0, "doctor", "--registry-namespace", env.Namespace, "--plugin-dir", pluginDir)
		contains(t, r, "rollouts.argoproj.io", "patch rollouts/status", "prometheus")
		root, err := framework.RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		lintdata := filepath.Join(root, "cmd", "kubectl-nerve", "internal", "lint", "testdata")
		contains(t, c.must(1, "lint", "-f", filepath.Join(lintdata, "seed-raw.yaml")), "spec.selector is missing", "passes no value for {{args.service-name}}")
		c.must(0, "lint", "-f", filepath.Join(lintdata, "seed-completed.yaml"))
		helper := c.must(0, "completion", "kubectl-plugin").Out
		if err := os.WriteFile(filepath.Join(helpers, "kubectl_complete-nerve"), []byte(helper), 0o755); err != nil {
			t.Fatal(err)
		}
		comp := kubectl(t.Context(), c.path, "__complete", "nerve", "sta")
		if !strings.Contains(comp.Out, "status") {
			t.Fatalf("kubectl plugin completion: %s", comp)
		}
		comp = kubectl(t.Context(), c.path, "__complete", "nerve", "get", "rollout", "-n", c.ns, "mllp")
		if !strings.Contains(comp.Out, ro) {
			t.Fatalf("rollout name completion: %s", comp)
		}
		contains(t, c.must(0, "version"), "kubectl-nerve:")
	})
}

// Exit codes of kubectl nerve (mirrors cmd/kubectl-nerve/internal/cli).
const (
	ExitDegraded = 3
	ExitTimeout  = 4
)
