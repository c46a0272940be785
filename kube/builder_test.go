package kube_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/nerve-rollouts/nerve/kube"
	"github.com/nerve-rollouts/nerve/kube/kubetest"
)

// A Builder's Resources send the config's user agent (client-go's default when it has none),
// protobuf first for built-in kinds and JSON otherwise, and a Limiter only when the config
// asks for one.
func TestBuilder(t *testing.T) {
	rec := kubetest.NewRecorder(t, nil)
	scheme, err := kube.NewScheme(corev1.AddToScheme)
	if err != nil {
		t.Fatal(err)
	}
	for _, ua := range []string{"", "nerve-test"} {
		cfg := rec.Config()
		cfg.UserAgent = ua
		b, err := kube.NewBuilder(cfg, scheme, "")
		if err != nil {
			t.Fatal(err)
		}
		if b.Limiter() != nil {
			t.Error("a limiter for QPS -1")
		}
		rc, err := b.REST(corev1.SchemeGroupVersion, "/api", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, protobuf := range []bool{true, false} {
			if err := b.Resource(rc, "configmaps", true, protobuf).Get(context.Background(), "ns", "x", &corev1.ConfigMap{}); err != nil {
				t.Fatal(err)
			}
		}
		reqs := rec.Take()
		want := ua
		if ua == "" {
			want = rest.DefaultKubernetesUserAgent()
		}
		if len(reqs) != 2 || reqs[0].UserAgent != want || reqs[1].UserAgent != want || reqs[0].Path != "/api/v1/namespaces/ns/configmaps/x" {
			t.Fatalf("user agent %q: %+v", ua, reqs)
		}
		if reqs[0].Accept != "application/vnd.kubernetes.protobuf,application/json" || reqs[1].Accept != "application/json, */*" {
			t.Errorf("accept %q (protobuf), %q (JSON)", reqs[0].Accept, reqs[1].Accept)
		}
	}
	cfg := rec.Config()
	cfg.QPS, cfg.Burst = 5, 10
	b, err := kube.NewBuilder(cfg, scheme, "")
	if err != nil {
		t.Fatal(err)
	}
	if l := b.Limiter(); l == nil || l.QPS() != 5 {
		t.Errorf("limiter %v for QPS 5", l)
	}
	if _, err := b.REST(schema.GroupVersion{Group: "apps", Version: "v1"}, "/apis", b.Limiter()); err != nil {
		t.Fatal(err)
	}
}
