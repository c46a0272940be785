package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// DemoLabel marks namespaces the demo created (and may delete).
const DemoLabel = "nerve.io/demo"

// kubectl runs kubectl against the demo's cluster, feeding stdin.
func (r *runner) kubectl(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", r.cfg.Kubeconfig}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// freshNamespace deletes a namespace the demo made earlier (leftovers of an
// interrupted run) and creates it again, labelled as the demo's.
func (r *runner) freshNamespace(ctx context.Context, name string) error {
	nss := r.client.CoreV1().Namespaces()
	old, err := nss.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return err
	case old.Labels[DemoLabel] != "true":
		return fmt.Errorf("namespace %s exists and was not made by the demo: delete it or pick another with --namespace", name)
	default:
		r.say("namespace %s is left from an earlier run: deleting it", name)
		if err := nss.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := nss.Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
		if err != nil {
			return fmt.Errorf("namespace %s still terminating: %w", name, err)
		}
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{DemoLabel: "true"}}}
	if _, err := nss.Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return err
	}
	r.created = append(r.created, name)
	// Pods are refused until the ServiceAccount controller made "default".
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := r.client.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
}

// deleteNamespaces deletes the namespaces this run created (not waiting).
func (r *runner) deleteNamespaces(ctx context.Context) error {
	var errs []error
	for _, ns := range r.created {
		err := r.client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// applyKustomize renders a kustomize directory, rewrites it for this run
// (namespace, and the service name when it differs from the seed's) and
// applies it server-side.
func (r *runner) applyKustomize(ctx context.Context, dir string) error {
	out, err := r.kubectl(ctx, nil, "kustomize", dir)
	if err != nil {
		return err
	}
	// The overlay documents the default local Prometheus address; a control plane started on
	// shifted ports (NERVE_CLUSTER_PORT_OFFSET) serves Prometheus elsewhere, so point the
	// analysis at the Prometheus of this run.
	if r.cfg.PrometheusURL != "" {
		out = bytes.ReplaceAll(out, []byte(OverlayPrometheusURL), []byte(strings.TrimRight(r.cfg.PrometheusURL, "/")))
	}
	docs, err := Rewrite(out, r.cfg.Namespace, r.cfg.ServiceName)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	_, err = r.kubectl(ctx, docs, "apply", "--server-side", "--force-conflicts", "--field-manager", "nerve-demo", "-f", "-")
	return err
}

// OverlayPrometheusURL is the Prometheus address the demo overlay writes into the template.
const OverlayPrometheusURL = "http://127.0.0.1:9090"

// SeedServiceName is the service name the seed's manifests use.
const SeedServiceName = "mllp-listener"

// Rewrite sets every object's namespace and, when service differs from the
// seed's "mllp-listener", the MLLPRoute's spec.service and every
// service-name analysis argument value (the metrics label the analysis
// queries select on), so concurrent runs (e2e) do not read each other's
// metrics. It returns YAML documents.
func Rewrite(manifest []byte, namespace, service string) ([]byte, error) {
	var out bytes.Buffer
	for _, doc := range bytes.Split(manifest, []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, err
		}
		if md, ok := obj["metadata"].(map[string]any); ok && namespace != "" {
			md["namespace"] = namespace
		}
		if service != "" && service != SeedServiceName {
			rewriteService(obj, service)
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	return out.Bytes(), nil
}

func rewriteService(obj map[string]any, service string) {
	switch obj["kind"] {
	case "MLLPRoute":
		if spec, ok := obj["spec"].(map[string]any); ok {
			spec["service"] = service
		}
	case "Rollout":
		walk(obj, func(m map[string]any) {
			if m["name"] == "service-name" {
				if _, ok := m["value"]; ok {
					m["value"] = service
				}
			}
		})
	}
}

// walk calls fn on every map nested in v.
func walk(v any, fn func(map[string]any)) {
	switch t := v.(type) {
	case map[string]any:
		fn(t)
		for _, c := range t {
			walk(c, fn)
		}
	case []any:
		for _, c := range t {
			walk(c, fn)
		}
	}
}

// getRollout reads the demo's Rollout.
func (r *runner) getRollout(ctx context.Context) (*v1alpha1.Rollout, error) {
	u, err := r.dyn.Resource(v1alpha1.GroupVersionResource(v1alpha1.RolloutResource)).Namespace(r.cfg.Namespace).
		Get(ctx, RolloutName, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	ro := &v1alpha1.Rollout{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ro); err != nil {
		return nil, err
	}
	return ro, nil
}

// analysisRuns lists the namespace's AnalysisRuns, oldest first.
func (r *runner) analysisRuns(ctx context.Context) ([]v1alpha1.AnalysisRun, error) {
	l, err := r.dyn.Resource(v1alpha1.GroupVersionResource("analysisruns")).Namespace(r.cfg.Namespace).
		List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]v1alpha1.AnalysisRun, 0, len(l.Items))
	for _, u := range l.Items {
		var ar v1alpha1.AnalysisRun
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ar); err != nil {
			return nil, err
		}
		out = append(out, ar)
	}
	sortRuns(out)
	return out, nil
}

// writeFileAtomic writes via a temp file + rename.
func writeFileAtomic(path string, b []byte) error {
	if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
