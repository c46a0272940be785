package kube

import (
	"os/exec"
	"strings"
	"testing"
)

// The controller must not link client-go's typed clientset, its scheme or its leader election
// (they link every built-in API group: the size this package exists to save), nor API groups
// beyond the ones NewScheme registers.
func TestControllerLinksOnlyTheLeanClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/nerve-rollouts/nerve/cmd/nerve-controller").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{"k8s.io/api/core/v1": true, "k8s.io/api/apps/v1": true,
		"k8s.io/api/coordination/v1": true, "k8s.io/api/policy/v1": true}
	for _, p := range strings.Fields(string(out)) {
		switch {
		case p == "k8s.io/client-go/kubernetes" || strings.HasPrefix(p, "k8s.io/client-go/kubernetes/"),
			strings.HasPrefix(p, "k8s.io/client-go/tools/leaderelection"), strings.HasPrefix(p, "k8s.io/client-go/informers"),
			p == "k8s.io/client-go/tools/record", p == "k8s.io/apimachinery/pkg/util/strategicpatch":
			t.Errorf("nerve-controller links %s", p)
		case strings.HasPrefix(p, "k8s.io/api/") && !allowed[p]:
			t.Errorf("nerve-controller links API group %s", p)
		}
	}
}
