package main

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden reports why kubectl-nerve and the router and provider plugins must not link p:
// client-go's typed clientset and its scheme (every built-in API group), gateway-api's
// generated clientset, client-go's discovery and typed informers, and cli-runtime's
// genericclioptions (its discovery, REST mapper and resource builder link all of them). "" when
// p may be linked.
func forbidden(p string) string {
	switch {
	case p == "k8s.io/client-go/kubernetes" || strings.HasPrefix(p, "k8s.io/client-go/kubernetes/"):
		return "client-go's typed clientset or its scheme"
	case strings.HasPrefix(p, "sigs.k8s.io/gateway-api/pkg/client/"):
		return "gateway-api's generated clientset"
	case p == "k8s.io/client-go/discovery" || strings.HasPrefix(p, "k8s.io/client-go/discovery/"),
		p == "k8s.io/client-go/restmapper", p == "k8s.io/client-go/openapi":
		return "client-go's discovery"
	case p == "k8s.io/client-go/informers" || strings.HasPrefix(p, "k8s.io/client-go/informers/"),
		p == "k8s.io/client-go/metadata/metadatainformer":
		return "client-go's typed informers"
	case strings.HasPrefix(p, "k8s.io/cli-runtime/pkg/genericclioptions"), p == "k8s.io/cli-runtime/pkg/resource":
		return "cli-runtime's genericclioptions"
	}
	return ""
}

// The binaries link only the lean client layer (kube): the size this test guards.
func TestBinariesLinkOnlyTheLeanClient(t *testing.T) {
	for _, cmd := range []string{
		"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve",
		"github.com/nerve-rollouts/nerve/plugins/cmd/nerve-gatewayapi",
		"github.com/nerve-rollouts/nerve/plugins/cmd/nerve-mllp",
		"github.com/nerve-rollouts/nerve/plugins/cmd/nerve-job",
		"github.com/nerve-rollouts/nerve/cmd/nerve-mllp-proxy",
	} {
		out, err := exec.Command("go", "list", "-deps", cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", cmd, err, out)
		}
		n := 0
		for _, p := range strings.Fields(string(out)) {
			n++
			if why := forbidden(p); why != "" {
				t.Errorf("%s links %s (%s)", cmd, p, why)
			}
		}
		if n < 50 {
			t.Errorf("%s: only %d packages listed", cmd, n)
		}
	}
}
