//go:build e2e

package framework

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// Env is one test's view of the local control plane.
type Env struct {
	// Config is the admin rest config (system:masters).
	Config *rest.Config
	// Client is a typed clientset.
	Client kubernetes.Interface
	// Dynamic is a dynamic client, for CRDs and arbitrary kinds.
	Dynamic dynamic.Interface
	// Namespace is a fresh namespace for this test, deleted in t.Cleanup.
	Namespace string

	mapperOnce sync.Once
	mapper     *restmapper.DeferredDiscoveryRESTMapper
}

// New connects to the cluster and creates a fresh namespace (with its default
// ServiceAccount ready) that t.Cleanup deletes.
func New(t testing.TB) *Env {
	t.Helper()
	cfg, err := restConfig()
	if err != nil {
		t.Fatalf("e2e: %s: %v", noClusterMsg, err)
	}
	cs, err := clientsetFor(cfg)
	if err != nil {
		t.Fatalf("e2e: clientset: %v", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("e2e: dynamic client: %v", err)
	}
	env := &Env{Config: cfg, Client: cs, Dynamic: dyn}
	env.Namespace = env.createNamespace(t)
	return env
}

// Mapper returns a discovery-backed RESTMapper (cached; reset on a miss by Apply).
func (e *Env) Mapper() meta.ResettableRESTMapper {
	e.mapperOnce.Do(func() {
		e.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(e.Client.Discovery()))
	})
	return e.mapper
}

func restConfig() (*rest.Config, error) {
	path := os.Getenv(EnvKubeconfig)
	if path == "" {
		return nil, fmt.Errorf("%s is not set and .cluster/env is missing", EnvKubeconfig)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", path, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

func clientsetFor(cfg *rest.Config) (kubernetes.Interface, error) {
	return kubernetes.NewForConfig(cfg)
}

// namespaceName derives a DNS-1123 name from the test name plus a random suffix.
func namespaceName(testName string) string {
	base := strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, strings.ToLower(testName))
	for strings.Contains(base, "--") {
		base = strings.ReplaceAll(base, "--", "-")
	}
	base = strings.Trim(base, "-")
	if len(base) > 40 {
		base = strings.TrimRight(base[:40], "-")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "e2e-" + base + "-" + hex.EncodeToString(b)
}

func (e *Env) createNamespace(t testing.TB) string {
	t.Helper()
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   namespaceName(t.Name()),
		Labels: map[string]string{"nerve.e2e/managed": "true"},
	}}
	created, err := e.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("e2e: create namespace: %v", err)
	}
	name := created.Name
	t.Cleanup(func() { e.deleteNamespace(t, name) })
	// Pods are refused until the ServiceAccount controller creates "default".
	Eventually(t, 30*time.Second, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := e.Client.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}, "default ServiceAccount in namespace %s", name)
	return name
}

func (e *Env) deleteNamespace(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
	defer cancel()
	if t.Failed() {
		e.dumpNamespace(ctx, t, name)
	}
	err := e.Client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("e2e: delete namespace %s: %v", name, err)
	}
}

// dumpNamespace logs pods and events of a failed test's namespace.
func (e *Env) dumpNamespace(ctx context.Context, t testing.TB, name string) {
	if pods, err := e.Client.CoreV1().Pods(name).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range pods.Items {
			t.Logf("pod %s: phase=%s node=%s ip=%s", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP)
		}
	}
	if evs, err := e.Client.CoreV1().Events(name).List(ctx, metav1.ListOptions{}); err == nil {
		for _, ev := range evs.Items {
			t.Logf("event %s/%s: %s %s: %s", ev.InvolvedObject.Kind, ev.InvolvedObject.Name, ev.Type, ev.Reason, ev.Message)
		}
	}
}
