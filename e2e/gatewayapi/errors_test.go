//go:build e2e

package gatewayapi

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	authv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/plugins"
)

func TestClearErrors(t *testing.T) {
	h := setup(t, "--verifyWait=0s")
	h.env.Apply(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: stable-only}
spec:
  rules:
  - backendRefs: [{name: web-stable, port: 80}]
`)
	other := framework.New(t)
	other.Apply(t, webRoute) // backendRefs without namespace: they point at the other namespace
	cases := []struct {
		name, cfg string
		want      []string
	}{
		{"route not found", `{"httpRoute":"nope"}`, []string{`HTTPRoute ` + h.env.Namespace + `/nope not found`, `no HTTPRoute named "nope" in namespace "` + h.env.Namespace + `"`}},
		{"canary backend missing", `{"httpRoute":"stable-only"}`, []string{`no backendRef to the canary Service "web-canary"`}},
		{"wrong namespace", `{"httpRoute":"web","namespace":"` + other.Namespace + `"}`, []string{"wrong namespace", `namespace "` + other.Namespace + `"`}},
		{"no config for the plugin key", ``, []string{`plugins["nerve/gatewayAPI"]`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ro := h.rollout(tc.cfg)
			if tc.cfg == "" {
				ro.Spec.Strategy.Canary.TrafficRouting.Plugins = map[string]json.RawMessage{"argoproj-labs/gatewayAPI": json.RawMessage(`{"httpRoute":"web"}`)}
			}
			err := h.router.SetWeight(t.Context(), ro, 10, nil)
			if err == nil {
				t.Fatal("SetWeight succeeded")
			}
			var pe *plugins.PluginError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not the plugin's own (a transport failure?): %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestRBACDenied runs the plugin as a ServiceAccount that may read HTTPRoutes but not patch
// them.
func TestRBACDenied(t *testing.T) {
	env := framework.New(t)
	env.Apply(t, webRoute)
	ctx := t.Context()
	sa := "gatewayapi-reader"
	env.Apply(t, `
apiVersion: v1
kind: ServiceAccount
metadata: {name: `+sa+`}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: route-reader}
rules:
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: route-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: route-reader}
subjects: [{kind: ServiceAccount, name: `+sa+`, namespace: `+env.Namespace+`}]
`)
	expiry := int64(3600)
	tok, err := env.Client.CoreV1().ServiceAccounts(env.Namespace).CreateToken(ctx, sa, &authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := writeKubeconfig(t, env, tok.Status.Token)
	router := startDirect(t, []string{"KUBECONFIG=" + kubeconfig}, "--verifyWait=0s")
	h := &harness{env: env}
	ro := h.rollout(`{"httpRoute":"web"}`)
	// The Role needs a moment to reach the authorizer's cache.
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, func(ctxc context.Context) (bool, error) {
		err := router.SetWeight(ctxc, ro, 10, nil)
		return err != nil && strings.Contains(err.Error(), "RBAC denied: cannot patch httproutes.gateway.networking.k8s.io in namespace \""+env.Namespace+"\""), nil
	}, "SetWeight to fail with an RBAC message naming the verb and resource")
}

// TestInitFailureDoesNotCrash starts the plugin with no usable Kubernetes config: InitPlugin
// fails, the process stays up, and later calls report the problem instead of crashing.
func TestInitFailureDoesNotCrash(t *testing.T) {
	env := framework.New(t)
	h := &harness{env: env}
	router := startDirect(t, []string{"KUBECONFIG=" + filepath.Join(t.TempDir(), "missing"), "KUBERNETES_SERVICE_HOST=", "HOME=" + t.TempDir()})
	if err := router.InitPlugin(t.Context()); err == nil || !strings.Contains(err.Error(), "not initialised") {
		t.Fatalf("InitPlugin = %v, want a not-initialised error", err)
	}
	for range 2 {
		err := router.SetWeight(t.Context(), h.rollout(`{"httpRoute":"web"}`), 10, nil)
		if err == nil || !strings.Contains(err.Error(), "not initialised") {
			t.Fatalf("SetWeight after a failed init = %v", err)
		}
	}
	if typ, err := router.Type(t.Context()); err != nil || typ != "GatewayAPI" {
		t.Fatalf("Type = %q, %v", typ, err)
	}
}

// startDirect starts the plugin with go-plugin itself (Argo's way), with extra environment.
func startDirect(t *testing.T, env []string, args ...string) plugins.TrafficRouter {
	t.Helper()
	cmd := exec.Command(framework.Binary(t, pluginBinary), args...)
	cmd.Env = withEnv(env)
	client := goplugin.NewClient(&goplugin.ClientConfig{
		SkipHostEnv:     true, // else go-plugin appends the test's environment after cmd.Env, and it wins
		HandshakeConfig: plugins.Handshake(plugins.KindTrafficRouter),
		Plugins:         plugins.PluginSet(plugins.KindTrafficRouter, 30*time.Second),
		Cmd:             cmd,
		Logger:          framework.FileLogger(t, "plugin.log"),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin: %v", err)
	}
	raw, err := rpc.Dispense(plugins.DispenseTrafficRouter)
	if err != nil {
		t.Fatalf("dispense: %v", err)
	}
	r, ok := raw.(plugins.TrafficRouter)
	if !ok {
		t.Fatalf("dispensed %T", raw)
	}
	return r
}

// withEnv returns the test's environment with the KEY=VALUE pairs of overrides replacing it.
func withEnv(overrides []string) []string {
	keys := map[string]bool{}
	for _, kv := range overrides {
		k, _, _ := strings.Cut(kv, "=")
		keys[k] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !keys[k] {
			out = append(out, kv)
		}
	}
	return append(out, overrides...)
}

// writeKubeconfig writes a kubeconfig for the test cluster that authenticates with token.
func writeKubeconfig(t *testing.T, env *framework.Env, token string) string {
	t.Helper()
	ca := env.Config.CAData
	if len(ca) == 0 && env.Config.CAFile != "" {
		b, err := os.ReadFile(env.Config.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		ca = b
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["e2e"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: ca, InsecureSkipTLSVerify: len(ca) == 0}
	cfg.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "sa"}
	cfg.CurrentContext = "e2e"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
