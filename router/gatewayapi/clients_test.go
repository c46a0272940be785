package gatewayapi

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/nerve-rollouts/nerve/kube/kubetest"
)

// NewClients makes the requests gateway-api's generated clientset and client-go's typed
// clientset make for the router's calls: method, path, query, content types, user agent, body.
func TestClientsMakeTheGeneratedClientsetsRequests(t *testing.T) {
	ctx := context.Background()
	rec := kubetest.NewRecorder(t, nil)
	cfg := rec.Config()
	cfg.UserAgent = "nerve-gatewayapi"
	gw, err := gwclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lean, err := NewClients(cfg)
	if err != nil {
		t.Fatal(err)
	}
	patch := []byte(`[{"op":"replace","path":"/spec/rules/0/backendRefs/0/weight","value":95}]`)
	popts := metav1.PatchOptions{FieldManager: fieldManager}
	sel := metav1.ListOptions{LabelSelector: "app=fhir"}
	tgt := func(k Kind) target { return target{Kind: k, Namespace: "ns", Name: "r"} }
	names := func(k Kind) func() error {
		return func() error { _, err := listRouteNames(ctx, lean, k, "ns", "app=fhir"); return err }
	}
	cases := []struct {
		name        string
		typed, lean func() error
	}{
		{"get httproute", func() error { _, err := gw.GatewayV1().HTTPRoutes("ns").Get(ctx, "r", metav1.GetOptions{}); return err },
			func() error { _, err := readRoute(ctx, lean, tgt(KindHTTPRoute)); return err }},
		{"get grpcroute", func() error { _, err := gw.GatewayV1().GRPCRoutes("ns").Get(ctx, "r", metav1.GetOptions{}); return err },
			func() error { _, err := readRoute(ctx, lean, tgt(KindGRPCRoute)); return err }},
		{"get tcproute", func() error { _, err := gw.GatewayV1().TCPRoutes("ns").Get(ctx, "r", metav1.GetOptions{}); return err },
			func() error { _, err := readRoute(ctx, lean, tgt(KindTCPRoute)); return err }},
		{"get tlsroute", func() error { _, err := gw.GatewayV1().TLSRoutes("ns").Get(ctx, "r", metav1.GetOptions{}); return err },
			func() error { _, err := readRoute(ctx, lean, tgt(KindTLSRoute)); return err }},
		{"patch httproute", func() error {
			_, err := gw.GatewayV1().HTTPRoutes("ns").Patch(ctx, "r", types.JSONPatchType, patch, popts)
			return err
		}, func() error { return patchRoute(ctx, lean, tgt(KindHTTPRoute), patch) }},
		{"patch tcproute", func() error {
			_, err := gw.GatewayV1().TCPRoutes("ns").Patch(ctx, "r", types.JSONPatchType, patch, popts)
			return err
		}, func() error { return patchRoute(ctx, lean, tgt(KindTCPRoute), patch) }},
		{"list httproutes", func() error { _, err := gw.GatewayV1().HTTPRoutes("ns").List(ctx, sel); return err }, names(KindHTTPRoute)},
		{"list grpcroutes", func() error { _, err := gw.GatewayV1().GRPCRoutes("ns").List(ctx, sel); return err }, names(KindGRPCRoute)},
		{"list tlsroutes", func() error { _, err := gw.GatewayV1().TLSRoutes("ns").List(ctx, sel); return err }, names(KindTLSRoute)},
		{"get service", func() error {
			_, err := core.CoreV1().Services("ns").Get(ctx, "fhir-extra", metav1.GetOptions{})
			return err
		},
			func() error { return lean.Services.Get(ctx, "ns", "fhir-extra", &corev1.Service{}) }},
	}
	for _, tc := range cases {
		kubetest.SameRequest(t, rec, tc.name, tc.typed, tc.lean)
	}
}
