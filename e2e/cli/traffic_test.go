//go:build e2e

package cli

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nerve-rollouts/nerve/e2e/framework"
	mllpapi "github.com/nerve-rollouts/nerve/router/mllp/api"
)

const trafficManifest = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mllp-admin}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs:
    - {name: mllp-listener-stable, port: 8080, weight: 80}
    - {name: mllp-listener-canary, port: 8080, weight: 20}
---
apiVersion: mllp.nerve.io/v1alpha1
kind: MLLPRoute
metadata: {name: mllp-listener}
spec:
  service: mllp-listener
  stableService: mllp-listener-stable
  canaryService: mllp-listener-canary
  port: mllp
  weight: 20
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: mllp-listener}
spec:
  replicas: 1
  selector: {matchLabels: {app: mllp-listener}}
  template:
    metadata: {labels: {app: mllp-listener}}
    spec:
      containers: [{name: listener, image: "registry.local/mllp-listener:1.4.1"}]
  strategy:
    canary:
      canaryService: mllp-listener-canary
      stableService: mllp-listener-stable
      trafficRouting:
        plugins:
          nerve/gatewayAPI: {httpRoute: mllp-admin}
          nerve/mllp: {route: mllp-listener}
      steps:
      - setWeight: 20
      - pause: {}
`

// TestTraffic reads live router objects: the HTTPRoute's backendRefs and the MLLPRoute's
// per-replica status (written here as a proxy replica would).
func TestTraffic(t *testing.T) {
	env := framework.New(t)
	c := &cli{t: t, path: pluginPath(t), ns: env.Namespace}
	env.Apply(t, trafficManifest)
	routes := env.Dynamic.Resource(mllpapi.GroupVersionResource()).Namespace(env.Namespace)
	route, err := routes.Get(t.Context(), ro, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]any{"replicas": []any{map[string]any{
		"name": "nerve-mllp-proxy-0", "observedGeneration": route.GetGeneration(), "weight": int64(20), "ready": true,
		"heartbeatTime": time.Now().UTC().Format(time.RFC3339), "stableMessages": int64(800), "canaryMessages": int64(200),
		"stableEndpoints": int64(1), "canaryEndpoints": int64(1),
	}}}
	if err := unstructured.SetNestedField(route.Object, status, "status"); err != nil {
		t.Fatal(err)
	}
	if _, err := routes.UpdateStatus(t.Context(), route, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := c.must(0, "traffic", ro)
	contains(t, r, "nerve/gatewayAPI", "httproutes/mllp-admin", "mllp-listener-canary", "canary", "20.0%",
		"nerve/mllp", "mllproute/mllp-listener", "nerve-mllp-proxy-0", "20/100", "200", "20.0%")
	t.Logf("traffic:\n%s", r.Out)
	contains(t, c.must(0, "traffic", ro, "-o", "jsonpath={.mllp[0].canaryShare}"), "20.0%")
}
