package argoside

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	rrpc "github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/plugins/conformance/testbin"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

// fakeRouteServer is just enough of an API server for the MLLP router: one MLLPRoute (GET,
// PUT bumping the generation on spec changes, PATCH of annotations) and one Service without
// the shadow label. A proxy replica's fresh status entry follows every generation.
type fakeRouteServer struct {
	mu    sync.Mutex
	route *api.MLLPRoute
}

func (f *fakeRouteServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/services/mllp-canary"):
		_, _ = io.WriteString(w, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"mllp-canary","namespace":"clinical"}}`)
		return
	case !strings.HasSuffix(r.URL.Path, "/namespaces/clinical/mllproutes/mllp-listener"):
		http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`, http.StatusNotFound)
		return
	}
	if r.Method == http.MethodPut {
		var in api.MLLPRoute
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		spec, _ := json.Marshal(in.Spec)
		old, _ := json.Marshal(f.route.Spec)
		if string(spec) != string(old) {
			f.route.Generation++
		}
		f.route.Spec = in.Spec
	}
	f.route.Status.Replicas = []api.ReplicaStatus{{Name: "proxy-0", ObservedGeneration: f.route.Generation,
		Weight: f.route.Spec.Weight, Ready: true, HeartbeatTime: metav1.NewTime(time.Now())}}
	u, err := api.ToUnstructured(f.route)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(u.Object)
}

// TestArgoClientDrivesNerveMLLPRouter drives the real nerve-mllp plugin binary with Argo's own
// RPC client and types (the controller's handshake and plugin map) against a fake API server.
func TestArgoClientDrivesNerveMLLPRouter(t *testing.T) {
	bin := mllpBinary(t)
	route := &api.MLLPRoute{}
	route.Name, route.Namespace, route.Generation = "mllp-listener", "clinical", 1
	route.Spec = api.MLLPRouteSpec{Service: "mllp-listener", StableService: "mllp-stable", CanaryService: "mllp-canary"}
	fake := &fakeRouteServer{route: route}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	kc := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: f, cluster: {server: %q}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: f, user: u, namespace: clinical}}]\ncurrent-context: c\n", srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)
	r := dispense(t, bin, "trafficrouter", "RpcTrafficRouterPlugin", &rrpc.RpcTrafficRouterPlugin{}).(rrpc.TrafficRouterPlugin)

	ro := &v1alpha1.Rollout{}
	ro.Name, ro.Namespace = "mllp-listener", "clinical"
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{StableService: "mllp-stable", CanaryService: "mllp-canary",
		TrafficRouting: &v1alpha1.RolloutTrafficRouting{
			Plugins:       map[string]json.RawMessage{"nerve/mllp": json.RawMessage(`{"route":"mllp-listener"}`)},
			ManagedRoutes: []v1alpha1.MangedRoutes{{Name: "lab1"}, {Name: "shadow"}},
		}}
	ok := func(what string, e types.RpcError) {
		t.Helper()
		if e.HasError() {
			t.Fatalf("%s: %s", what, e.Error())
		}
	}
	ok("InitPlugin", r.InitPlugin())
	if typ := r.Type(); typ != "MLLP" {
		t.Fatalf("Type = %q", typ)
	}
	ok("UpdateHash", r.UpdateHash(ro, "c0ffee", "5ab1e", nil))
	ok("SetWeight", r.SetWeight(ro, 25, nil))
	ok("SetHeaderRoute", r.SetHeaderRoute(ro, &v1alpha1.SetHeaderRoute{Name: "lab1", Match: []v1alpha1.HeaderRoutingMatch{
		{HeaderName: "sending-facility", HeaderValue: &v1alpha1.StringMatch{Exact: "LAB1"}}}}))
	pct := int32(10)
	mirrorErr := r.SetMirrorRoute(ro, &v1alpha1.SetMirrorRoute{Name: "shadow", Percentage: &pct, Match: []v1alpha1.RouteMatch{{}}})
	if !strings.Contains(mirrorErr.Error(), "is not flagged shadow (label mllp.nerve.io/shadow=true)") {
		t.Fatalf("SetMirrorRoute to an unflagged canary: %q", mirrorErr.Error())
	}
	v, e := r.VerifyWeight(ro, 25, nil)
	ok("VerifyWeight", e)
	if v != types.Verified {
		t.Fatalf("VerifyWeight(25) = %v", v)
	}
	ok("RemoveManagedRoutes", r.RemoveManagedRoutes(ro))

	fake.mu.Lock()
	defer fake.mu.Unlock()
	s := fake.route.Spec
	if s.Weight != 25 || s.CanaryHash != "c0ffee" || s.StableHash != "5ab1e" || len(s.Matches) != 0 || s.Mirror != nil {
		t.Fatalf("route spec after the Argo client's calls: %+v", s)
	}
}

// mllpBinary returns $NERVE_BIN/plugins/nerve-mllp (make interop-test), else builds it.
func mllpBinary(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("NERVE_BIN"); d != "" {
		if p := filepath.Join(d, "plugins", "nerve-mllp"); fileExists(p) {
			return p
		}
	}
	root, err := testbin.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "nerve-mllp")
	cmd := exec.Command("go", "build", "-o", out, "./plugins/cmd/nerve-mllp")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build nerve-mllp: %v\n%s", err, b)
	}
	return out
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
