//go:build e2e

package argo

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/e2e/framework"
	"github.com/nerve-rollouts/nerve/e2e/framework/launcher"
	"github.com/nerve-rollouts/nerve/router/mllp"
	"github.com/nerve-rollouts/nerve/router/mllp/api"
	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

const (
	// portBase and portBlocks: the pod-IP port plan (10.244.c.d listens on 127.0.0.1:base+c*256+d),
	// kept below the ephemeral port range.
	portBase, portBlocks = 21000, 45
	// shareSample is how many messages a traffic share is counted over.
	shareSample = 2000
)

// podBackends is the launcher's starter: one in-process MLLP backend per Ready pod, on the
// pod IP's planned port, counted by pod-template hash.
type podBackends struct {
	mu  sync.Mutex
	all []*podBackend
}

type podBackend struct {
	hash string
	b    *mllptest.Backend
}

func (p *podBackend) Addr() string { return p.b.Addr() }
func (p *podBackend) Stop() error  { return p.b.Close() }

// Start implements launcher.Starter.
func (p *podBackends) Start(_ context.Context, spec launcher.Spec) (launcher.Handle, error) {
	// A 3 ms ACK delay paces the closed-loop senders (CPU is shared with the control plane).
	b, err := mllptest.NewBackend(mllptest.BackendOptions{Name: spec.Hash, Addr: spec.Listen, Delay: 3 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	pb := &podBackend{hash: spec.Hash, b: b}
	p.mu.Lock()
	p.all = append(p.all, pb)
	p.mu.Unlock()
	return pb, nil
}

// counts returns the messages received so far per pod-template hash (stopped backends
// included).
func (p *podBackends) counts() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int64{}
	for _, b := range p.all {
		out[b.hash] += b.b.Count()
	}
	return out
}

func (p *podBackends) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.all {
		_ = b.b.Close()
	}
}

// mllpSite is one namespace's MLLP data plane: the MLLPRoute, its Services, a backend per pod
// (started by e2e/framework/launcher from the pods on the fake nodes), two nerve-mllp-proxy
// processes in watch mode and HL7 senders through both.
type mllpSite struct {
	s        *suite
	route    string
	backends *podBackends
	proxies  []string // listen addresses
}

// newMLLPSite creates the Services, the MLLPRoute (weight 0, sticky per patient), the launcher
// and the two proxies; traffic starts later (startTraffic), once pods serve.
func (s *suite) newMLLPSite(route string) *mllpSite {
	s.t.Helper()
	m := &mllpSite{s: s, route: route, backends: &podBackends{}}
	s.services(route)
	s.env.Apply(s.t, fmt.Sprintf(`apiVersion: mllp.nerve.io/v1alpha1
kind: MLLPRoute
metadata: {name: %[1]s}
spec:
  service: %[1]s
  stableService: %[1]s-stable
  canaryService: %[1]s-canary
  port: mllp
  weight: 0
  stickyKey: pid3
`, route))
	amap := filepath.Join(s.t.TempDir(), "address-map")
	m.startLauncher(amap)
	for i := range 2 {
		listen := "127.0.0.1:" + strconv.Itoa(framework.FreePort(s.t))
		framework.StartProcess(s.t, framework.Binary(s.t, "nerve-mllp-proxy"), []string{
			"--kubeconfig", os.Getenv(framework.EnvKubeconfig), "--namespace", s.ns, "--route", route,
			"--listen", listen, "--metrics-addr", "", "--address-map", amap, "--replica-name", fmt.Sprintf("proxy-%d", i),
			"--ack-timeout", "5s", "--drain-timeout", "2s",
		}, nil)
		m.proxies = append(m.proxies, listen)
	}
	return m
}

// startLauncher runs the launcher (pods → backends) until the test ends; it writes the whole
// port plan to amap before returning, so the proxies can read it at start.
func (m *mllpSite) startLauncher(amap string) {
	t := m.s.t
	t.Helper()
	plan := &launcher.PortPlan{Prefix: "10.244", Base: portBase, Blocks: portBlocks}
	if err := plan.WriteAddressMap(amap); err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(m.s.env.Config)
	if err != nil {
		t.Fatal(err)
	}
	var logMu sync.Mutex
	var lines []string
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	l := launcher.New(launcher.Config{Namespace: m.s.ns, Selector: "app=" + m.route, Port: podPort, AddressMap: amap,
		DrainDelay: 3 * time.Second, Plan: plan}, kube, m.backends, logf)
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("launcher: %v", err)
		}
		m.backends.closeAll()
		if t.Failed() {
			logMu.Lock()
			defer logMu.Unlock()
			for _, l := range lines {
				t.Logf("launcher: %s", l)
			}
		}
	})
}

// startTraffic runs two closed-loop HL7 senders through each proxy (many patients, so sticky
// routing by PID-3 still splits by weight) until the test ends; it returns a function that
// stops them and returns the merged result.
func (m *mllpSite) startTraffic() func() *mllptest.Result {
	ctx, cancel := context.WithCancel(context.WithoutCancel(m.s.t.Context()))
	var wg sync.WaitGroup
	results := make([]*mllptest.Result, len(m.proxies))
	for i, addr := range m.proxies {
		opts := mllptest.SenderOptions{Addr: addr, Senders: 2, Reconnect: true,
			Gen: mllptest.GenOptions{Seed: uint64(7 + i), Patients: 20000, IDPrefix: string(rune('A' + i))}}
		wg.Go(func() { results[i], _ = mllptest.RunSenders(ctx, opts) }) // Reconnect: errors are counted
	}
	var once sync.Once
	total := &mllptest.Result{}
	stop := func() *mllptest.Result {
		once.Do(func() {
			cancel()
			wg.Wait()
			for _, r := range results {
				if r != nil {
					total.Sent, total.Acked, total.Errors, total.NAKs = total.Sent+r.Sent, total.Acked+r.Acked, total.Errors+r.Errors, total.NAKs+r.NAKs
				}
			}
		})
		return total
	}
	m.s.t.Cleanup(func() { stop() })
	return stop
}

// share counts n more messages at the backends and returns the percentage that went to the
// pods of hash.
func (m *mllpSite) share(hash string, n int64) float64 {
	t := m.s.t
	t.Helper()
	sum := func(c map[string]int64) (all int64) {
		for _, n := range c {
			all += n
		}
		return all
	}
	before := m.backends.counts()
	var after map[string]int64
	framework.Eventually(t, 60*time.Second, 20*time.Millisecond, func(context.Context) (bool, error) {
		after = m.backends.counts()
		return sum(after)-sum(before) >= n, nil
	}, "%d messages at the backends", n)
	return 100 * float64(after[hash]-before[hash]) / float64(sum(after)-sum(before))
}

// routeWeight reads an MLLPRoute's spec.weight.
func routeWeight(u *unstructured.Unstructured) (int32, error) {
	r, err := api.FromUnstructured(u)
	if err != nil {
		return 0, err
	}
	return r.Spec.Weight, nil
}

// runMLLP runs the gated canary routed by nerve/mllp under one controller, with HL7 traffic
// through two live proxies: at the 25% pause about a quarter of the messages reach the canary
// pods, and once the update ended (promoted or aborted) and the route is back at 0, none reach
// the pods that lost (the old stable after a promotion, the canary after an abort).
func runMLLP(t *testing.T, kind controllerKind, c analysisCase) outcome {
	t.Helper()
	s := newSuite(t, kind, routerPlugin{name: mllp.DefaultPluginName, binary: "nerve-mllp"})
	s.gate(c.value)
	site := s.newMLLPSite("hl7")
	ri, err := s.env.ResourceFor(api.GroupVersionKind(), s.ns)
	if err != nil {
		t.Fatal(err)
	}
	weights := s.recordWeights(ri, "hl7", routeWeight)
	s.env.Apply(t, routedRolloutYAML("hl7", mllp.DefaultPluginName, "{route: hl7}"))
	var stopTraffic func() *mllptest.Result
	hooks := routedHooks{
		atStart: func() {
			stopTraffic = site.startTraffic()
			site.share("", shareSample) // waits until traffic flows (to v1) before the update starts
		},
		atPause: func(ro *v1alpha1.Rollout) {
			got := site.share(ro.Status.CurrentPodHash, shareSample)
			t.Logf("%s/%s: canary share at the 25%% pause %.2f%% over %d messages", kind, c.name, got, shareSample)
			if math.Abs(got-25) > 5 {
				t.Errorf("%s/%s: canary share %.2f%% at weight 25 (more than 5 points off)", kind, c.name, got)
			}
		},
		atEnd: func(loser string) {
			site.waitApplied(0)
			site.drained(loser)
		},
	}
	o := s.runRouted("hl7", c, weights, hooks)
	res := stopTraffic()
	t.Logf("%s/%s: traffic %d sent, %d ACKed, %d NAKs, %d send errors (resent)", kind, c.name, res.Sent, res.Acked, res.NAKs, res.Errors)
	if res.NAKs != 0 || res.Acked == 0 {
		t.Errorf("%s/%s: %d NAKs, %d ACKed", kind, c.name, res.NAKs, res.Acked)
	}
	return o
}

// waitApplied waits until both proxies report weight w at the route's current generation.
func (m *mllpSite) waitApplied(w int32) {
	t := m.s.t
	t.Helper()
	ri, err := m.s.env.ResourceFor(api.GroupVersionKind(), m.s.ns)
	if err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		u, err := ri.Get(ctx, m.route, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		r, err := api.FromUnstructured(u)
		if err != nil {
			return false, err
		}
		return api.Applied(r, w, time.Now()) && len(r.Status.FreshReplicas(time.Now())) == len(m.proxies), nil
	}, "both proxies apply weight %d", w)
}

// drained requires the pods of hash to stop receiving: within 20s a window of 300 messages
// reaches none of them (proxies follow EndpointSlice changes), and neither does the next full
// sample.
func (m *mllpSite) drained(hash string) {
	t := m.s.t
	t.Helper()
	framework.Eventually(t, 20*time.Second, time.Millisecond, func(context.Context) (bool, error) {
		return m.share(hash, 300) == 0, nil
	}, "no messages to the pods of %s", hash)
	if got := m.share(hash, shareSample); got != 0 {
		t.Errorf("%.2f%% of %d messages still reached the pods of %s after the route went back to 0", got, shareSample, hash)
	}
}

// TestMLLPRouterArgoVsNerve: nerve's MLLP router plugin, loaded by the real Argo controller
// and by nerve's loop, shifts live HL7 traffic through two nerve-mllp-proxy processes per
// message: a quarter of the messages at the 25% pause, none to the losing pods once a good
// gauge promotes or a bad one aborts — with the same MLLPRoute weights, phases and messages
// under both controllers.
//
// The cases run one after the other: pod IPs are cluster-wide and kwok reuses them at once, and
// the port plan gives an IP one port, so a pod of one namespace could take the IP of a pod whose
// backend still drains in another and receive that namespace's traffic.
func TestMLLPRouterArgoVsNerve(t *testing.T) {
	compareOutcomes(t, true, gateCases(), runMLLP)
}
