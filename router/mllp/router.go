package mllp

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

// Options configure a Router.
type Options struct {
	// Name is the config key under trafficRouting.plugins (default DefaultPluginName).
	Name string
	// Logger receives the router's logs (default: discard).
	Logger hclog.Logger
	// Dynamic is the client to use; nil builds one from RESTConfig on first use.
	Dynamic dynamic.Interface
	// RESTConfig loads the client config (default: KUBECONFIG or in-cluster).
	RESTConfig func() (*rest.Config, error)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PollInterval is VerifyWeight's re-check interval while it waits (default 50ms).
	PollInterval time.Duration
}

// Router implements plugins.TrafficRouter for MLLPRoutes. It is safe for concurrent use.
type Router struct {
	opts Options
	log  hclog.Logger
	mu   sync.Mutex
	dyn  dynamic.Interface
}

// New returns a router; clients are built lazily (InitPlugin or the first call).
func New(opts Options) *Router {
	if opts.Name == "" {
		opts.Name = DefaultPluginName
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.RESTConfig == nil {
		opts.RESTConfig = defaultRESTConfig
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 50 * time.Millisecond
	}
	return &Router{opts: opts, log: opts.Logger, dyn: opts.Dynamic}
}

// defaultRESTConfig loads KUBECONFIG / ~/.kube/config, falling back to in-cluster config.
func defaultRESTConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
}

// client returns the dynamic client, building it on first use (or after a failed attempt).
func (r *Router) client() (dynamic.Interface, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dyn != nil {
		return r.dyn, nil
	}
	cfg, err := r.opts.RESTConfig()
	if err != nil {
		return nil, fmt.Errorf("MLLP router not initialised: load Kubernetes client config (KUBECONFIG or in-cluster): %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "nerve-mllp-router"
	if cfg.QPS == 0 {
		// VerifyWeight polls while it waits; client-go's default (5 QPS) would throttle it.
		cfg.QPS, cfg.Burst = 50, 100
	}
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("MLLP router not initialised: dynamic client: %w", err)
	}
	r.dyn = d
	return d, nil
}

// InitPlugin builds the client. A failure is returned but not fatal: every later call retries.
func (r *Router) InitPlugin(_ context.Context) error {
	if _, err := r.client(); err != nil {
		r.log.Error("init failed; will retry on the next call", "error", err)
		return err
	}
	return nil
}

// Type names the router.
func (r *Router) Type(_ context.Context) (string, error) { return "MLLP", nil }

// setup resolves the config and the client.
func (r *Router) setup(ro *v1alpha1.Rollout) (target, dynamic.Interface, error) {
	t, err := resolve(r.opts.Name, ro)
	if err != nil {
		return target{}, nil, err
	}
	d, err := r.client()
	return t, d, err
}

// getRoute reads the MLLPRoute of t.
func getRoute(ctx context.Context, d dynamic.Interface, t target) (*api.MLLPRoute, error) {
	u, err := d.Resource(api.GroupVersionResource()).Namespace(t.Namespace).Get(ctx, t.Route, metav1.GetOptions{})
	if err != nil {
		return nil, explain(err, "get", t)
	}
	return api.FromUnstructured(u)
}

// mutate applies change to the route and updates it when change reports a difference,
// retrying on conflicts. It reports whether it wrote.
func mutate(ctx context.Context, d dynamic.Interface, t target, change func(*api.MLLPRoute) (bool, error)) (bool, error) {
	wrote := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		wrote = false
		route, err := getRoute(ctx, d, t)
		if err != nil {
			return err
		}
		changed, err := change(route)
		if err != nil || !changed {
			return err
		}
		if err := route.Spec.Validate(); err != nil {
			return fmt.Errorf("MLLPRoute %s: the change would make the spec invalid: %w", t.key(), err)
		}
		u, err := api.ToUnstructured(route)
		if err != nil {
			return err
		}
		if _, err := d.Resource(api.GroupVersionResource()).Namespace(t.Namespace).Update(ctx, u, metav1.UpdateOptions{FieldManager: "nerve-mllp-router"}); err != nil {
			if apierrors.IsConflict(err) {
				return err
			}
			return explain(err, "update", t)
		}
		wrote = true
		return nil
	})
	return wrote, err
}

// explain turns API errors into messages that say what to fix.
func explain(err error, verb string, t target) error {
	switch {
	case apierrors.IsNotFound(err):
		hint := ""
		if t.Namespace != t.rolloutNS {
			hint = fmt.Sprintf(" (config namespace %q differs from the Rollout's namespace %q: is it the right one?)", t.Namespace, t.rolloutNS)
		}
		return fmt.Errorf("MLLPRoute %s not found%s: create it (the CRD is manifests/crds/mllproutes.yaml), or fix the plugin config fields route/namespace: %w", t.key(), hint, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("RBAC denied: the plugin (running as the controller's service account) may not %s mllproutes.%s in namespace %s: %w", verb, api.Group, t.Namespace, err)
	}
	return fmt.Errorf("%s MLLPRoute %s: %w", verb, t.key(), err)
}

// servicesGVR addresses core v1 Services.
func servicesGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Version: "v1", Resource: "services"}
}
