//go:build e2e

package framework

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"
)

// StartController runs the built nerve-controller for namespace ns (its Lease and
// argo-rollouts-config in ns too, short leader-election timings, a private plugin work dir) and
// waits for its /healthz; the process is stopped at the end of the test.
func StartController(t testing.TB, ns string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	args := []string{
		"--kubeconfig", os.Getenv(EnvKubeconfig),
		"--namespace", ns, "--controller-namespace", ns,
		"--metrics-addr", addr,
		"--leader-elect-lease-duration=3s", "--leader-elect-renew-deadline=2s", "--leader-elect-retry-period=500ms",
		"--plugin-workdir", t.TempDir(),
	}
	StartProcess(t, Binary(t, "nerve-controller"), args, nil)
	WaitHTTP(t, "http://"+addr+"/healthz", "nerve-controller /healthz")
}

// WaitHTTP waits (30 s at most) until url answers 200 OK.
func WaitHTTP(t testing.TB, url, what string) {
	t.Helper()
	Eventually(t, 30*time.Second, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}, what)
}
