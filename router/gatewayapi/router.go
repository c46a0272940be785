package gatewayapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// Type is what Type() answers (the labs plugin's value).
const Type = "GatewayAPI"

// Options configure a Router.
type Options struct {
	// Name is the key under trafficRouting.plugins to read (DefaultPluginName when empty).
	Name string
	// Logger receives the router's logs (a null logger when nil).
	Logger hclog.Logger
	// QPS and Burst override the Kubernetes client's rate limits when > 0.
	QPS   float32
	Burst int
	// RESTConfig loads the client configuration; by default KUBECONFIG (or ~/.kube/config), else
	// the in-cluster service account.
	RESTConfig func() (*rest.Config, error)
	// Clients, when set, are used as they are (tests).
	Clients *Clients
	// VerifyWait is how long VerifyWeight keeps re-checking a route that is not verified yet
	// before it answers NotVerified (0 = answer at once). Gateways usually accept a change within
	// a second, while Argo's controller re-asks only 10s after a NotVerified.
	VerifyWait time.Duration
}

// DefaultVerifyWait is the plugin binary's default Options.VerifyWait.
const DefaultVerifyWait = 2 * time.Second

// verifyPollInterval is how often VerifyWeight re-checks within VerifyWait.
const verifyPollInterval = 200 * time.Millisecond

// Router is the Gateway API traffic router. It implements plugins.TrafficRouter and is safe for
// concurrent use; it keeps no state besides its API clients.
type Router struct {
	opts Options
	log  hclog.Logger

	mu      sync.Mutex
	clients *Clients
}

// New returns a Router. It builds no clients yet: InitPlugin does, and every later call retries
// when that failed.
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
	return &Router{opts: opts, log: opts.Logger, clients: opts.Clients}
}

// defaultRESTConfig loads KUBECONFIG / ~/.kube/config, falling back to in-cluster config.
func defaultRESTConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
}

// ensureClients returns the clients, building them on first use (or after a failed attempt).
func (r *Router) ensureClients() (*Clients, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.clients != nil {
		return r.clients, nil
	}
	cfg, err := r.opts.RESTConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: load Kubernetes client config (KUBECONFIG or in-cluster): %w", ErrNotInitialized, err)
	}
	cfg = rest.CopyConfig(cfg)
	if r.opts.QPS > 0 {
		cfg.QPS = r.opts.QPS
	}
	if r.opts.Burst > 0 {
		cfg.Burst = r.opts.Burst
	}
	cfg.UserAgent = "nerve-gatewayapi"
	c, err := NewClients(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: Gateway API client: %w", ErrNotInitialized, err)
	}
	r.clients = c
	return r.clients, nil
}

// InitPlugin builds the API clients. A failure is returned (and logged) but is not fatal: every
// later call tries again.
func (r *Router) InitPlugin(_ context.Context) error {
	if _, err := r.ensureClients(); err != nil {
		r.log.Error("init failed; will retry on the next call", "error", err)
		return err
	}
	r.log.Info("initialised", "pluginName", r.opts.Name)
	return nil
}

// Type names the router.
func (r *Router) Type(context.Context) (string, error) { return Type, nil }

// UpdateHash does nothing: routes point at the stable and canary Services, whose selectors the
// controller maintains.
func (r *Router) UpdateHash(context.Context, *v1alpha1.Rollout, string, string, []v1alpha1.WeightDestination) error {
	return nil
}

// request is what every call needs: clients, config and the routes.
type request struct {
	clients *Clients
	cfg     *Config
	targets []target
	log     hclog.Logger
}

// prepare builds the clients, parses the configuration and resolves the routes.
func (r *Router) prepare(ctx context.Context, ro *v1alpha1.Rollout) (*request, error) {
	c, err := r.ensureClients()
	if err != nil {
		return nil, err
	}
	cfg, warnings, err := parseConfig(ro, r.opts.Name)
	if err != nil {
		return nil, err
	}
	log := r.log.With("rollout", ro.Namespace+"/"+ro.Name)
	for _, w := range warnings {
		log.Warn(w)
	}
	targets, err := discover(ctx, c, cfg)
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, ErrNoRoutes
	}
	return &request{clients: c, cfg: cfg, targets: targets, log: log}, nil
}

// discover returns the named routes plus those the selectors match.
func discover(ctx context.Context, gw *Clients, cfg *Config) ([]target, error) {
	targets := cfg.namedTargets()
	for _, kind := range allKinds() {
		sel := cfg.selector(kind)
		if sel == nil {
			continue
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return nil, fmt.Errorf("plugin config %sSelector: %w", kind.configField(), err)
		}
		names, err := listRouteNames(ctx, gw, kind, cfg.Namespace, s.String())
		if err != nil {
			return nil, describeAPIError(err, "list", target{Kind: kind, Namespace: cfg.Namespace, Name: "(selector " + s.String() + ")"})
		}
		for _, n := range names {
			targets = mergeTarget(targets, target{Kind: kind, Namespace: cfg.Namespace, Name: n})
		}
	}
	return targets, nil
}

// SetWeight sends desiredWeight to the canary, each additional destination its weight and the
// rest of maxTrafficWeight to stable, on every weighted rule of every route. Routes already
// there are not written.
func (r *Router) SetWeight(ctx context.Context, ro *v1alpha1.Rollout, desiredWeight int32, additional []v1alpha1.WeightDestination) error {
	req, err := r.prepare(ctx, ro)
	if err != nil {
		return err
	}
	w, err := newWeightSpec(ro, desiredWeight, additional)
	if err != nil {
		return fmt.Errorf("rollout %s/%s: %w", ro.Namespace, ro.Name, err)
	}
	key, val := req.cfg.inProgressLabel()
	if desiredWeight == 0 {
		val = ""
	}
	port := req.servicePorts(ctx, w.svcNS)
	var errs []error
	for _, t := range req.targets {
		wrote, err := reconcileRoute(ctx, req.clients, t, func(rt *route) ([]patchOp, error) {
			ops, err := w.planWeights(rt, port)
			if err != nil {
				return nil, err
			}
			return append(ops, labelOps(rt.meta.Labels, key, val)...), nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if wrote {
			req.log.Info("weights set", "route", t.String(), "canary", w.canaryW, "stable", w.stableW, "additional", len(w.additional))
		}
	}
	return errors.Join(errs...)
}

// servicePorts returns a portFunc that reads the port of an additional destination's Service:
// the port named "http", else the first one.
func (req *request) servicePorts(ctx context.Context, ns string) portFunc {
	cache := map[string]*gatewayv1.PortNumber{}
	return func(name string) (*gatewayv1.PortNumber, error) {
		if p, ok := cache[name]; ok {
			return p, nil
		}
		svc := &corev1.Service{}
		if err := req.clients.Services.Get(ctx, ns, name, svc); err != nil {
			return nil, describeServiceError(err, ns, name)
		}
		if len(svc.Spec.Ports) == 0 {
			return nil, fmt.Errorf("additional destination Service %s/%s has no ports", ns, name)
		}
		p := svc.Spec.Ports[0].Port
		for _, sp := range svc.Spec.Ports {
			if sp.Name == "http" {
				p = sp.Port
				break
			}
		}
		cache[name] = &p
		return &p, nil
	}
}

// SetHeaderRoute adds (or, with no match, removes) the header rules of one managed route on
// every HTTPRoute and GRPCRoute that takes header routes. Rules of other managed routes, even on
// the same header, are left alone.
func (r *Router) SetHeaderRoute(ctx context.Context, ro *v1alpha1.Rollout, hr *v1alpha1.SetHeaderRoute) error {
	if hr == nil {
		return errors.New("setHeaderRoute: no route given")
	}
	req, err := r.prepare(ctx, ro)
	if err != nil {
		return err
	}
	managed := managedNames(ro)
	if err := validateManagedName(hr.Name, managed); err != nil {
		return fmt.Errorf("setHeaderRoute: %w", err)
	}
	var hs []headerMatch
	if len(hr.Match) > 0 {
		if hs, err = headerMatches(hr); err != nil {
			return err
		}
	}
	w := serviceSpec(ro)
	return req.eachManagedTarget(ctx, "setHeaderRoute "+hr.Name, func(t target) planner {
		return func(rt *route) ([]patchOp, error) {
			if len(hs) == 0 {
				return removeRuleOps(rt, ownedRules(rt, hr.Name, managed)), nil
			}
			src := sourceRules(rt, w, managed)
			if len(src) == 0 {
				return nil, w.missingBackendsError(rt)
			}
			var desired []any
			var err error
			if t.Kind == KindHTTPRoute {
				desired, err = httpHeaderRules(rt, w, src, hr.Name, hs)
			} else {
				desired, err = grpcHeaderRules(rt, w, src, hr.Name, hs)
			}
			if err != nil {
				return nil, fmt.Errorf("setHeaderRoute %q: %w", hr.Name, err)
			}
			return managedRuleOps(rt, hr.Name, managed, desired), nil
		}
	}, func(Kind) bool { return true })
}

// serviceSpec is a weightSpec used only to recognise the Rollout's Services.
func serviceSpec(ro *v1alpha1.Rollout) weightSpec {
	c := ro.Spec.Strategy.Canary
	return weightSpec{svcNS: ro.Namespace, stable: c.StableService, canary: c.CanaryService, previous: map[string]bool{}}
}

// eachManagedTarget runs plan on every route that takes managed rules (useHeaderRoutes and a
// kind accepted by supports).
func (req *request) eachManagedTarget(ctx context.Context, what string, plan func(target) planner, supports func(Kind) bool) error {
	var errs []error
	n := 0
	for _, t := range req.targets {
		if !t.UseHeaderRoutes || !t.Kind.supportsManagedRules() {
			continue
		}
		if !supports(t.Kind) {
			req.log.Warn(what+": not supported on this route kind; skipped", "route", t.String())
			continue
		}
		n++
		wrote, err := reconcileRoute(ctx, req.clients, t, plan(t))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if wrote {
			req.log.Info(what+": route updated", "route", t.String())
		}
	}
	if n == 0 {
		req.log.Warn(what + ": no HTTPRoute or GRPCRoute takes managed routes (set httpRoute/grpcRoute, or useHeaderRoutes: true on a listed route); nothing to do")
	}
	return errors.Join(errs...)
}

// SetMirrorRoute adds (or, with no match, removes) the mirror rules of one managed route on
// every HTTPRoute that takes managed routes: copies of the weighted rules, narrowed to the
// mirror's matches, with a RequestMirror filter sending percentage % of them to the canary.
// GRPCRoutes are skipped (SetMirrorRoute's matches are HTTP method/path/header matches).
func (r *Router) SetMirrorRoute(ctx context.Context, ro *v1alpha1.Rollout, mr *v1alpha1.SetMirrorRoute) error {
	if mr == nil {
		return errors.New("setMirrorRoute: no route given")
	}
	req, err := r.prepare(ctx, ro)
	if err != nil {
		return err
	}
	managed := managedNames(ro)
	if err := validateManagedName(mr.Name, managed); err != nil {
		return fmt.Errorf("setMirrorRoute: %w", err)
	}
	percent := int32(100)
	if mr.Percentage != nil {
		percent = *mr.Percentage
	}
	if percent < 0 || percent > 100 {
		return fmt.Errorf("setMirrorRoute %q: percentage %d is outside 0..100", mr.Name, percent)
	}
	var mms []mirrorMatch
	if len(mr.Match) > 0 {
		if mms, err = mirrorMatches(mr); err != nil {
			return err
		}
	}
	w := serviceSpec(ro)
	return req.eachManagedTarget(ctx, "setMirrorRoute "+mr.Name, func(target) planner {
		return func(rt *route) ([]patchOp, error) {
			if len(mms) == 0 {
				return removeRuleOps(rt, ownedRules(rt, mr.Name, managed)), nil
			}
			src := sourceRules(rt, w, managed)
			if len(src) == 0 {
				return nil, w.missingBackendsError(rt)
			}
			desired, err := httpMirrorRules(rt, w, src, mr.Name, mms, percent)
			if err != nil {
				return nil, fmt.Errorf("setMirrorRoute %q: %w", mr.Name, err)
			}
			return managedRuleOps(rt, mr.Name, managed, desired), nil
		}
	}, func(k Kind) bool { return k == KindHTTPRoute })
}

// RemoveManagedRoutes removes every rule named after a managed route from every route that
// takes managed routes. It is the only call that removes them besides a setHeaderRoute or
// setMirrorRoute without match: SetWeight(0) and a canary without pods leave them in place.
func (r *Router) RemoveManagedRoutes(ctx context.Context, ro *v1alpha1.Rollout) error {
	req, err := r.prepare(ctx, ro)
	if err != nil {
		return err
	}
	managed := managedNames(ro)
	if len(managed) == 0 {
		return nil
	}
	return req.eachManagedTarget(ctx, "removeManagedRoutes", func(target) planner {
		return func(rt *route) ([]patchOp, error) {
			return removeRuleOps(rt, ownedRules(rt, "", managed)), nil
		}
	}, func(Kind) bool { return true })
}

// Verify checks every route: the desired weights must be in its spec and every parent must
// report Accepted=True and ResolvedRefs=True for its current generation. It re-checks for up to
// Options.VerifyWait while that is not the case yet.
func (r *Router) Verify(ctx context.Context, ro *v1alpha1.Rollout, desiredWeight int32, additional []v1alpha1.WeightDestination) (Verification, error) {
	req, err := r.prepare(ctx, ro)
	if err != nil {
		return Verification{}, err
	}
	w, err := newWeightSpec(ro, desiredWeight, additional)
	if err != nil {
		return Verification{}, fmt.Errorf("rollout %s/%s: %w", ro.Namespace, ro.Name, err)
	}
	deadline := time.Now().Add(r.opts.VerifyWait)
	for {
		v, err := req.verifyOnce(ctx, w)
		if err != nil || v.Verified || !time.Now().Add(verifyPollInterval).Before(deadline) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, nil
		case <-time.After(verifyPollInterval):
		}
	}
}

// verifyOnce checks every route once.
func (req *request) verifyOnce(ctx context.Context, w weightSpec) (Verification, error) {
	v := Verification{Verified: true}
	for _, t := range req.targets {
		rt, err := getRoute(ctx, req.clients, t)
		if err != nil {
			return Verification{}, err
		}
		reason, err := verifyRoute(rt, w)
		if err != nil {
			return Verification{}, err
		}
		if reason != "" {
			v.Verified = false
			v.Reasons = append(v.Reasons, reason)
		}
	}
	return v, nil
}

// VerifyWeight answers Verified or NotVerified. A pending route is NotVerified with a nil error
// and the reason logged: an error would make Argo's controller skip its quick re-check (it only
// requeues after a false answer without error), while NotVerified keeps the step blocked. Real
// failures (route missing, RBAC, bad config) are returned as errors.
func (r *Router) VerifyWeight(ctx context.Context, ro *v1alpha1.Rollout, desiredWeight int32, additional []v1alpha1.WeightDestination) (plugins.RpcVerified, error) {
	v, err := r.Verify(ctx, ro, desiredWeight, additional)
	if err != nil {
		return plugins.NotVerified, err
	}
	if !v.Verified {
		r.log.Info("weight not verified yet", "rollout", ro.Namespace+"/"+ro.Name, "desiredWeight", desiredWeight, "reason", v.Message())
		return plugins.NotVerified, nil
	}
	return plugins.Verified, nil
}
