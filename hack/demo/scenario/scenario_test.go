package scenario

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

const rendered = `apiVersion: mllp.nerve.io/v1alpha1
kind: MLLPRoute
metadata:
  name: mllp-listener
  namespace: clinical-ingestion
spec:
  service: mllp-listener
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: mllp-listener
  namespace: clinical-ingestion
spec:
  strategy:
    canary:
      analysis:
        args:
        - name: service-name
          value: mllp-listener
      steps:
      - analysis:
          args:
          - name: service-name
            value: mllp-listener
          - name: other
            value: mllp-listener
`

func TestRewrite(t *testing.T) {
	out, err := Rewrite([]byte(rendered), "e2e-ns", "svc-x")
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Count(s, "namespace: e2e-ns") != 2 || strings.Contains(s, "clinical-ingestion") {
		t.Fatalf("namespace not rewritten:\n%s", s)
	}
	if strings.Count(s, "value: svc-x") != 2 || !strings.Contains(s, "service: svc-x") {
		t.Fatalf("service not rewritten:\n%s", s)
	}
	if !strings.Contains(s, "name: other\n            value: mllp-listener") {
		t.Fatalf("an unrelated argument was rewritten:\n%s", s)
	}
	same, err := Rewrite([]byte(rendered), "clinical-ingestion", SeedServiceName)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(same), "svc-x") || strings.Count(string(same), "value: mllp-listener") != 3 {
		t.Fatalf("seed service must stay:\n%s", same)
	}
}

func TestCurrentWeight(t *testing.T) {
	var ro v1alpha1.Rollout
	if err := yaml.Unmarshal([]byte(`spec:
  strategy:
    canary:
      steps: [{setWeight: 5}, {pause: {}}, {setWeight: 25}, {pause: {}}]
status:
  currentStepIndex: 3
`), &ro); err != nil {
		t.Fatal(err)
	}
	if w := currentWeight(&ro); w != 25 {
		t.Fatalf("weight from steps = %d, want 25", w)
	}
	ro.Status.Canary.Weights = &v1alpha1.TrafficWeights{Canary: v1alpha1.WeightDestination{Weight: 5}}
	if w := currentWeight(&ro); w != 5 {
		t.Fatalf("weight from status = %d, want 5", w)
	}
}
