//go:build e2e

// Package framework is nerve's shared e2e harness: it connects tests to the
// local control plane started by `make cluster-up` (hack/cluster/up.sh).
//
// Usage in an area package (every file carries the build tag e2e):
//
//	func TestMain(m *testing.M) { framework.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		env := framework.New(t)          // fresh namespace, deleted in t.Cleanup
//		env.Apply(t, manifestYAML)        // server-side apply, any kind
//		framework.Eventually(t, 30*time.Second, 200*time.Millisecond,
//			func(ctx context.Context) (bool, error) { ... }, "rollout %s finished", name)
//		p := framework.StartProcess(t, framework.Binary(t, "nerve-controller"), args, nil)
//		framework.RegisterScrapeTarget(t, "my-job", addr, nil)
//		framework.WaitForPromSeries(t, `my_metric{job="my-job"}`)
//	}
//
// Main loads <repo>/.cluster/env into the process environment (variables that
// are already set win, so KUBECONFIG overrides it) and fails the run when no
// control plane answers. Tests never skip for a missing environment: they fail.
// All test traffic goes to 127.0.0.1; the 10.x Service and pod addresses that
// the fake nodes report are never dialled.
package framework
