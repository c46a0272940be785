package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	gwfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/kube"
	"github.com/nerve-rollouts/nerve/kube/kubetest"
	"github.com/nerve-rollouts/nerve/router/gatewayapi"
	"github.com/nerve-rollouts/nerve/view/viewtest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const testNS = viewtest.Namespace

func testNow() time.Time { return viewtest.Now() }

func ptr[T any](v T) *T { return &v }

// testEnv is a Factory over fake clientsets plus captured streams.
type testEnv struct {
	f    *Factory
	dyn  *dynamicfake.FakeDynamicClient
	kube *kubefake.Clientset
	gw   *gwfake.Clientset
	tty  bool
	env  map[string]string
}

// toU converts a typed object for the fake dynamic client.
func toU(t *testing.T, obj any, apiVersion, kind string) *unstructured.Unstructured {
	t.Helper()
	return viewtest.ToUnstructured(t, obj, apiVersion, kind)
}

func newTestEnv(t *testing.T, dynObjs []runtime.Object, kubeObjs ...runtime.Object) *testEnv {
	t.Helper()
	te := &testEnv{env: map[string]string{"PATH": t.TempDir()}}
	te.dyn = viewtest.NewDynamic(dynObjs...)
	te.kube = kubefake.NewClientset(kubeObjs...)
	te.gw = gwfake.NewSimpleClientset()
	ns := testNS
	flags := NewConfigFlags(false)
	flags.Namespace = &ns
	empty := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(empty, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flags.KubeConfig = &empty
	te.f = &Factory{
		Getter:  flags,
		Now:     testNow,
		Dynamic: func() (dynamic.Interface, error) { return te.dyn, nil },
		Kube:    func() (*Kube, error) { return fakeKube(te.kube), nil },
		Gateway: func() (*gatewayapi.Clients, error) {
			return viewtest.Fakes{Kube: te.kube, Gateway: te.gw}.GatewayClients(), nil
		},
		Getenv:     func(k string) string { return te.env[k] },
		LookPath:   func(string) (string, error) { return "", os.ErrNotExist },
		IsTerminal: func(io.Writer) bool { return te.tty },
		RunCommand: func(string, ...string) ([]byte, error) {
			return []byte(`{"clientVersion":{"major":"1","minor":"32","gitVersion":"v1.32.4"}}`), nil
		},
	}
	return te
}

// fakeKube is Kube over the fake clientset cs (its objects, reactors, actions and discovery).
func fakeKube(cs *kubefake.Clientset) *Kube {
	res := func(gv schema.GroupVersion, resource, kind string) kube.API {
		return kubetest.New(&cs.Fake, gv.WithResource(resource), kind)
	}
	return &Kube{
		ReplicaSets:   res(appsv1.SchemeGroupVersion, "replicasets", "ReplicaSet"),
		Pods:          res(corev1.SchemeGroupVersion, "pods", "Pod"),
		Events:        res(corev1.SchemeGroupVersion, "events", "Event"),
		ConfigMaps:    res(corev1.SchemeGroupVersion, "configmaps", "ConfigMap"),
		Namespaces:    res(corev1.SchemeGroupVersion, "namespaces", "Namespace"),
		AccessReviews: res(authv1.SchemeGroupVersion, "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
		Resources: func(_ context.Context, gv string) (*metav1.APIResourceList, error) {
			return cs.Discovery().ServerResourcesForGroupVersion(gv)
		},
	}
}

// run executes kubectl nerve args and returns stdout, stderr and the exit code.
func (te *testEnv) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var in, out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: &in, Out: &out, ErrOut: &errOut}
	flags, _ := te.f.Getter.(*ConfigFlags)
	root := NewRootCmd(streams, flags, te.f)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	code := Code(err, &errOut)
	return out.String(), errOut.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

// The world of most tests: viewtest's paused canary.
const (
	roName    = viewtest.RolloutName
	imgStable = viewtest.ImageStable
)

func pausedCanary() *v1alpha1.Rollout { return viewtest.PausedCanary() }

// canaryWorld is the paused canary with its ReplicaSets, pods, AnalysisRun, MLLPRoute and
// HTTPRoute.
func canaryWorld(t *testing.T) *testEnv {
	t.Helper()
	w := viewtest.CanaryWorld(t)
	te := newTestEnv(t, w.Dynamic, w.Kube...)
	te.gw = gwfake.NewSimpleClientset(w.Gateway...)
	return te
}
