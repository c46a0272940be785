package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fakediscovery "k8s.io/client-go/discovery/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

func mustCode(t *testing.T, got, want int, stderr string) {
	t.Helper()
	if got != want {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", got, want, stderr)
	}
}

func TestGetRolloutTree(t *testing.T) {
	te := canaryWorld(t)
	out, errOut, code := te.run(t, "get", "rollout", roName)
	mustCode(t, code, 0, errOut)
	golden(t, "get-rollout-paused", out)
	for _, want := range []string{"॥ Paused", "Step:          1/6", "ActualWeight:  5", "[0.0042] vs result[0] < 0.005 (2/5)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestGetRolloutWideAndColor(t *testing.T) {
	te := canaryWorld(t)
	out, errOut, code := te.run(t, "get", "ro", roName, "-o", "wide", "--revisions", "1")
	mustCode(t, code, 0, errOut)
	golden(t, "get-rollout-wide", out)

	te.tty = true
	out, _, _ = te.run(t, "get", "rollout", roName)
	golden(t, "get-rollout-color", out)
	if !strings.Contains(out, "\033[") {
		t.Error("no colour on a terminal")
	}
	te.env["NO_COLOR"] = "1"
	out, _, _ = te.run(t, "get", "rollout", roName)
	if strings.Contains(out, "\033[") {
		t.Error("NO_COLOR ignored")
	}
	delete(te.env, "NO_COLOR")
	out, _, _ = te.run(t, "get", "rollout", roName, "--no-color")
	if strings.Contains(out, "\033[") {
		t.Error("--no-color ignored")
	}
}

func TestGetRolloutStructured(t *testing.T) {
	te := canaryWorld(t)
	out, errOut, code := te.run(t, "get", "rollout", roName, "-o", "jsonpath={.status.phase} {.status.currentStepIndex}")
	mustCode(t, code, 0, errOut)
	if out != "Paused 1" {
		t.Errorf("jsonpath: %q", out)
	}
	out, _, _ = te.run(t, "get", "rollout", roName, "-o", "name")
	if out != "rollout.argoproj.io/mllp-listener\n" {
		t.Errorf("name: %q", out)
	}
	out, _, _ = te.run(t, "get", "rollout", roName, "-o", "json")
	var ro v1alpha1.Rollout
	if err := json.Unmarshal([]byte(out), &ro); err != nil || ro.Name != roName {
		t.Errorf("json: %v %q", err, out)
	}
	_, errOut, code = te.run(t, "get", "rollout", roName, "-o", "bogus")
	mustCode(t, code, ExitUsage, errOut)
}

func TestGetRolloutWatchEventLines(t *testing.T) {
	te := canaryWorld(t)
	out, errOut, code := te.run(t, "get", "rollout", roName, "-w", "--until", "paused")
	mustCode(t, code, 0, errOut)
	golden(t, "get-rollout-watch-events", out)
	_, errOut, code = te.run(t, "get", "rollout", roName, "--until", "step=1", "--timeout", "1s")
	mustCode(t, code, 0, errOut)
	_, errOut, code = te.run(t, "get", "rollout", roName, "--until", "healthy", "--timeout", "1500ms")
	mustCode(t, code, ExitTimeout, errOut)
}

func TestGetRolloutWatchRedrawsOnTTY(t *testing.T) {
	te := canaryWorld(t)
	te.tty = true
	out, errOut, code := te.run(t, "get", "rollout", roName, "--until", "paused", "--no-color")
	mustCode(t, code, 0, errOut)
	if !strings.HasPrefix(out, "Name:") || strings.Contains(out, "\033[") {
		t.Errorf("first frame should be drawn without escapes: %q", out[:40])
	}
}

func TestListRollouts(t *testing.T) {
	te := canaryWorld(t)
	healthy := pausedCanary()
	healthy.Name, healthy.Namespace, healthy.UID = "fhir-poller", "clinical-serving", "uid-2"
	healthy.Status = v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutPhaseHealthy, CurrentPodHash: "abc", StableRS: "abc",
		CurrentStepIndex: ptr(int32(6)), Replicas: 4, UpdatedReplicas: 4, ReadyReplicas: 4, AvailableReplicas: 4, ObservedGeneration: "2"}
	if err := te.dyn.Tracker().Create(v1alpha1.GroupVersionResource(v1alpha1.RolloutResource), toU(t, healthy, "argoproj.io/v1alpha1", "Rollout"), healthy.Namespace); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := te.run(t, "list", "rollouts", "-A")
	mustCode(t, code, 0, errOut)
	golden(t, "list-rollouts-all", out)
	out, _, _ = te.run(t, "list", "rollouts", "-A", "--waiting")
	golden(t, "list-rollouts-waiting", out)
	out, _, _ = te.run(t, "list", "rollouts", "-o", "name")
	if out != "rollout.argoproj.io/mllp-listener\n" {
		t.Errorf("name: %q", out)
	}
}

func TestStatusExitCodes(t *testing.T) {
	te := canaryWorld(t)
	out, errOut, code := te.run(t, "status", roName, "--until", "paused")
	mustCode(t, code, 0, errOut)
	golden(t, "status-paused", out)
	_, errOut, code = te.run(t, "status", roName, "--watch=false")
	mustCode(t, code, ExitTimeout, errOut)
	_, errOut, code = te.run(t, "status", roName, "--until", "sideways")
	mustCode(t, code, ExitUsage, errOut)
	_, errOut, code = te.run(t, "status")
	mustCode(t, code, ExitUsage, errOut)
	_, errOut, code = te.run(t, "status", "missing", "--timeout", "1s")
	mustCode(t, code, ExitFailure, errOut)

	ro := pausedCanary()
	ro.Status.Abort = true
	ro.Status.Phase, ro.Status.Message = v1alpha1.RolloutPhaseDegraded, "RolloutAborted: metric \"error-rate\" assessed Failed"
	if err := te.dyn.Tracker().Update(v1alpha1.GroupVersionResource(v1alpha1.RolloutResource), toU(t, ro, "argoproj.io/v1alpha1", "Rollout"), testNS); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = te.run(t, "status", roName, "--until", "healthy")
	mustCode(t, code, ExitDegraded, errOut)
	golden(t, "status-degraded-stderr", errOut)

	// retry cleared status.abort; the controller has not reconciled the phase yet: keep waiting.
	ro.Status.Abort = false
	if err := te.dyn.Tracker().Update(v1alpha1.GroupVersionResource(v1alpha1.RolloutResource), toU(t, ro, "argoproj.io/v1alpha1", "Rollout"), testNS); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = te.run(t, "status", roName, "--until", "paused", "--watch=false")
	mustCode(t, code, ExitTimeout, errOut)
}

// patches returns the (subresource, patch) of every patch action.
func patches(te *testEnv) []string {
	var out []string
	for _, a := range te.dyn.Actions() {
		if p, ok := a.(k8stesting.PatchAction); ok {
			out = append(out, p.GetSubresource()+" "+string(p.GetPatchType())+" "+string(p.GetPatch()))
		}
	}
	return out
}

func TestMutatingCommandsSendArgoPatches(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"promote", roName}, []string{`status application/merge-patch+json {"status":{"pauseConditions":null}}`}},
		{[]string{"promote", roName, "--full"}, []string{`status application/merge-patch+json {"status":{"promoteFull":true}}`}},
		{[]string{"abort", roName}, []string{`status application/merge-patch+json {"status":{"abort":true}}`}},
		{[]string{"retry", "rollout", roName}, []string{`status application/merge-patch+json {"status":{"abort":false}}`}},
		{[]string{"pause", roName}, []string{` application/merge-patch+json {"spec":{"paused":true}}`}},
		{[]string{"resume", roName}, []string{` application/merge-patch+json {"spec":{"paused":false}}`}},
		{[]string{"restart", roName, "--in", "30s"}, []string{` application/merge-patch+json {"spec":{"restartAt":"2026-11-25T12:00:30Z"}}`}},
		{[]string{"promote", roName, "--dry-run"}, nil},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			te := canaryWorld(t)
			out, errOut, code := te.run(t, tc.args...)
			mustCode(t, code, 0, errOut)
			golden(t, "cmd-"+strings.Join(tc.args[:1], "")+"-"+strings.ReplaceAll(strings.Join(tc.args[2:], ""), "-", ""), out)
			got := patches(te)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("patches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestPromoteFullDryRunPlan(t *testing.T) {
	te := canaryWorld(t)
	out, errOut, code := te.run(t, "promote", roName, "--full", "--dry-run")
	mustCode(t, code, 0, errOut)
	golden(t, "cmd-promote-fulldryrun", out)
	if len(patches(te)) != 0 {
		t.Error("dry run patched")
	}
}

func TestSetImageAndUndo(t *testing.T) {
	te := canaryWorld(t)
	out, errOut, code := te.run(t, "set", "image", roName, "listener=registry.local/mllp-listener:1.4.3")
	mustCode(t, code, 0, errOut)
	golden(t, "cmd-set-image", out)
	u, err := te.dyn.Resource(v1alpha1.GroupVersionResource(v1alpha1.RolloutResource)).Namespace(testNS).Get(t.Context(), roName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mustJSON(t, u.Object), "mllp-listener:1.4.3") {
		t.Error("image not updated")
	}
	_, errOut, code = te.run(t, "set", "image", roName, "nope=x")
	mustCode(t, code, ExitFailure, errOut)

	te.dyn.ClearActions()
	out, errOut, code = te.run(t, "undo", roName)
	mustCode(t, code, 0, errOut)
	golden(t, "cmd-undo", out)
	got := patches(te)
	if len(got) != 1 || !strings.HasPrefix(got[0], " application/json-patch+json [{\"op\":\"replace\",\"path\":\"/spec/template\"") || !strings.Contains(got[0], imgStable) || strings.Contains(got[0], v1alpha1.DefaultRolloutUniqueLabelKey) {
		t.Errorf("undo patch: %v", got)
	}
	_, errOut, code = te.run(t, "undo", roName, "--to-revision", "9")
	mustCode(t, code, ExitFailure, errOut)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAnalysisTable(t *testing.T) {
	te := canaryWorld(t)
	out, errOut, code := te.run(t, "analysis", roName)
	mustCode(t, code, 0, errOut)
	golden(t, "analysis", out)
	out, _, _ = te.run(t, "analysis", roName, "-o", "name")
	if out != "analysisrun.argoproj.io/mllp-listener-db976bc44-2-2\n" {
		t.Errorf("name: %q", out)
	}
}

func TestTraffic(t *testing.T) {
	te := canaryWorld(t)
	out, errOut, code := te.run(t, "traffic", roName)
	mustCode(t, code, 0, errOut)
	golden(t, "traffic", out)
	out, _, _ = te.run(t, "traffic", roName, "-o", "yaml")
	golden(t, "traffic-yaml", out)
}

func TestLintCommand(t *testing.T) {
	te := newTestEnv(t, nil)
	raw := filepath.Join("..", "lint", "testdata", "seed-raw.yaml")
	out, errOut, code := te.run(t, "lint", "-f", raw)
	mustCode(t, code, ExitFailure, errOut)
	if !strings.Contains(out, "seed-raw.yaml:6: error") {
		t.Errorf("lint output: %s", out)
	}
	_, errOut, code = te.run(t, "lint", "-f", filepath.Join("..", "lint", "testdata", "seed-completed.yaml"))
	mustCode(t, code, 0, errOut)
	_, errOut, code = te.run(t, "lint")
	mustCode(t, code, ExitUsage, errOut)
}

func TestCompletionAndUsage(t *testing.T) {
	te := newTestEnv(t, nil)
	out, _, code := te.run(t, "completion", "kubectl-plugin")
	mustCode(t, code, 0, "")
	golden(t, "completion-kubectl-plugin", out)
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, errOut, code := te.run(t, "completion", sh)
		mustCode(t, code, 0, errOut)
		if !strings.Contains(out, "kubectl-nerve") {
			t.Errorf("%s completion does not name the command", sh)
		}
	}
	_, errOut, code := te.run(t, "frobnicate")
	mustCode(t, code, ExitUsage, errOut)
	_, errOut, code = te.run(t, "get", "rollout", "--bogus-flag")
	mustCode(t, code, ExitUsage, errOut)
	out, _, _ = te.run(t, "status", "--help")
	for _, want := range []string{"3  the rollout is degraded or aborted", "4  --timeout passed first"} {
		if !strings.Contains(out, want) {
			t.Errorf("status --help lacks %q", want)
		}
	}
	out, _, code = te.run(t, "version", "-o", "json")
	mustCode(t, code, 0, "")
	if !strings.Contains(out, `"kind": "Version"`) {
		t.Errorf("version json: %s", out)
	}
}

func TestDoctor(t *testing.T) {
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/-/ready" {
			_, _ = w.Write([]byte("Prometheus Server is Ready."))
			return
		}
		http.NotFound(w, r)
	}))
	defer prom.Close()
	te := canaryWorld(t)
	te.env["PROMETHEUS_URL"] = prom.URL
	stray := filepath.Join(te.env["PATH"], "kubectl-nerve-plugins")
	if err := os.WriteFile(stray, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	te.kube.Discovery().(*fakediscovery.FakeDiscovery).Resources = []*metav1.APIResourceList{{
		GroupVersion: v1alpha1.GroupVersion().String(),
		APIResources: []metav1.APIResource{{Name: "rollouts"}, {Name: "analysisruns"}, {Name: "analysistemplates"}, {Name: "clusteranalysistemplates"}},
	}}
	te.kube.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ssar := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
		ssar.Status.Allowed = ssar.Spec.ResourceAttributes.Verb != "update"
		return true, ssar, nil
	})
	out, errOut, code := te.run(t, "doctor")
	mustCode(t, code, ExitFailure, errOut)
	out = strings.ReplaceAll(out, prom.URL, "http://PROMETHEUS")
	out = strings.ReplaceAll(out, te.env["PATH"], "/PATH")
	golden(t, "doctor", out)
}

func TestRegistryConfigMapAndCrossCheck(t *testing.T) {
	bins := []PluginBinary{
		{Path: "/opt/nerve/plugins/nerve-gatewayapi", Name: "nerve/gatewayAPI", Kind: "trafficrouter", SHA256: strings.Repeat("ab", 32)},
		{Path: "/opt/nerve/plugins/nerve-prometheus", Name: "nerve/prometheus", Kind: "metricprovider", SHA256: strings.Repeat("0", 64)},
	}
	cm, err := RegistryConfigMap(bins, "argo-rollouts")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		host.ConfigKeyTrafficRouters:  "- location: file:///opt/nerve/plugins/nerve-gatewayapi\n  name: nerve/gatewayAPI\n  sha256: " + strings.Repeat("ab", 32) + "\n",
		host.ConfigKeyMetricProviders: "- location: file:///opt/nerve/plugins/nerve-prometheus\n  name: nerve/prometheus\n  sha256: \"" + strings.Repeat("0", 64) + "\"\n",
	}
	if d := cmp.Diff(want, cm.Data); d != "" {
		t.Errorf("ConfigMap data (-want +got)\n%s", d)
	}
	parsed, err := host.ParseConfigMap(cm.Data)
	if err != nil {
		t.Fatalf("the host refuses what plugins config writes: %v", err)
	}
	reg := registryEntries(parsed)
	if len(reg) != 2 || reg[1].SHA256 != strings.Repeat("0", 64) || reg[0].Location != "file:///opt/nerve/plugins/nerve-gatewayapi" {
		t.Fatalf("round trip: %+v", reg)
	}
	reg[0].SHA256 = strings.Repeat("cd", 32)
	if probs := crossCheck(bins, reg); len(probs) != 1 || !strings.Contains(probs[0], "differs") {
		t.Errorf("cross check: %v", probs)
	}
}

// TestRegistryConfigMapRefuses shows `plugins config` refusing what the host would refuse.
func TestRegistryConfigMapRefuses(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		bin  PluginBinary
		want string
	}{
		{"not a plugin", PluginBinary{Path: "/p/x", Name: "nerve/x", Kind: "?", Problem: "not a plugin: boom"}, "not a plugin: /p/x: not a plugin: boom"},
		{"name without namespace (--name x=bad)", PluginBinary{Path: "/p/x", Name: "bad", Kind: "trafficrouter", SHA256: sum},
			`plugin "bad": name: plugin name "bad" must be <namespace>/<name>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := RegistryConfigMap([]PluginBinary{tc.bin}, "ns"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestScanDirNamesAndProbes shows the directory scan using the host's naming rule, sum and
// handshake probe: a script is no plugin, non-executables are skipped, --name overrides.
func TestScanDirNamesAndProbes(t *testing.T) {
	dir := t.TempDir()
	script := []byte("#!/bin/sh\necho hello\n")
	for file, mode := range map[string]os.FileMode{"nerve-gatewayapi": 0o700, "nerve-mllp": 0o700, "other": 0o700, "README": 0o600} {
		if err := os.WriteFile(filepath.Join(dir, file), script, mode); err != nil {
			t.Fatal(err)
		}
	}
	bins, err := scanDir(t.Context(), dir, map[string]string{"other": "acme/other"})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := host.FileSHA256(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bins {
		if b.SHA256 != sum || b.Status != "bad" || !strings.Contains(b.Problem, "not a plugin") {
			t.Errorf("%s: %+v", b.Name, b)
		}
		got = append(got, b.Name+" "+b.Kind)
	}
	if d := cmp.Diff([]string{"nerve/gatewayAPI ?", "nerve/mllp ?", "acme/other ?"}, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

// TestPluginsRegistryFindings shows `plugins list` and `doctor` reporting the host's findings on
// the cluster's ConfigMap (with field paths) while keeping its valid entries.
func TestPluginsRegistryFindings(t *testing.T) {
	te := canaryWorld(t)
	sum := strings.Repeat("AB", 32)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: host.ConfigMapName, Namespace: "argo-rollouts"}, Data: map[string]string{
		host.ConfigKeyTrafficRouters: "- {name: nerve/gatewayAPI, location: 'file:///nowhere/nerve-gatewayapi', sha256: " + sum + "}\n" +
			"- {name: acme/r, location: 'http://example.com/r', sha256: " + sum + "}\n",
	}}
	if _, err := te.kube.CoreV1().ConfigMaps("argo-rollouts").Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	problem := `argo-rollouts/argo-rollouts-config: data.trafficRouterPlugins[1].location: location "http://example.com/r" must start with file:// or https:// (plain http:// is refused)`
	out, errOut, code := te.run(t, "plugins", "list", "--dir", t.TempDir())
	mustCode(t, code, 0, errOut)
	if !strings.Contains(out, "problem: "+problem) {
		t.Errorf("plugins list:\n%s", out)
	}
	out, _, _ = te.run(t, "doctor")
	for _, want := range []string{problem, "nerve/gatewayAPI", "cannot read /nowhere/nerve-gatewayapi here"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor lacks %q:\n%s", want, out)
		}
	}
}
