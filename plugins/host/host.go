package host

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nerve-rollouts/nerve/plugins"
)

// DefaultStartTimeout bounds a plugin's start (exec to handshake line).
const DefaultStartTimeout = 20 * time.Second

// Options configure a Host.
type Options struct {
	// AllowUnverified lets entries without a sha256 run (logged as a warning on every start).
	AllowUnverified bool
	// CallTimeout bounds each plugin call (0 = plugins.DefaultCallTimeout).
	CallTimeout time.Duration
	// Logger receives the host's logs and the plugins' re-levelled stderr (as Named(<plugin>)).
	Logger hclog.Logger
	// WorkDir is the base of relative file:// locations and of downloads (plugin-bin/<ns>/<name>);
	// "" = the current directory.
	WorkDir string
	// StartTimeout bounds a plugin's start (0 = DefaultStartTimeout).
	StartTimeout time.Duration
	// HTTPClient downloads https locations (nil = http.DefaultClient).
	HTTPClient *http.Client
	// DownloadHeaders resolves an entry's headersFrom secret into HTTP headers.
	DownloadHeaders func(ctx context.Context, secretName string) (map[string]string, error)
}

// key identifies a plugin.
type key struct {
	kind plugins.Kind
	name string
}

// Host runs the plugins of a Registry. It is safe for concurrent use.
type Host struct {
	opts Options
	log  hclog.Logger

	mu      sync.Mutex
	entries map[key]Entry
	procs   map[key]*proc
	closed  bool
}

// New returns a host with an empty registry.
func New(opts Options) *Host {
	log := opts.Logger
	if log == nil {
		log = hclog.New(&hclog.LoggerOptions{Name: "plugins", Output: os.Stderr, Level: hclog.Info})
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	return &Host{opts: opts, log: log, entries: map[key]Entry{}, procs: map[key]*proc{}}
}

// SetRegistry replaces the registry. Running plugins whose entry changed or was removed are
// killed; new and changed ones start lazily on their next use.
func (h *Host) SetRegistry(r Registry) {
	next := map[key]Entry{}
	for _, e := range append(slices.Clone(r.TrafficRouters), r.MetricProviders...) {
		next[key{e.Kind, e.Name}] = e
	}
	h.mu.Lock()
	var stale []*proc
	for k, p := range h.procs {
		if e, ok := next[k]; !ok || !sameEntry(e, p.entry) {
			stale = append(stale, p)
			delete(h.procs, k)
		}
	}
	h.entries = next
	h.mu.Unlock()
	for _, p := range stale {
		p.close("its registry entry changed or was removed")
	}
}

// sameEntry reports whether two entries would run the same process.
func sameEntry(a, b Entry) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.Location == b.Location && a.SHA256 == b.SHA256 &&
		slices.Equal(a.Args, b.Args) && slices.Equal(a.HeadersFrom, b.HeadersFrom)
}

// Has reports whether the registry holds a plugin of kind named name.
func (h *Host) Has(kind plugins.Kind, name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.entries[key{kind, name}]
	return ok
}

// Close kills every plugin process; later calls fail.
func (h *Host) Close() {
	h.mu.Lock()
	procs := h.procs
	h.procs = map[key]*proc{}
	h.closed = true
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { p.close("the host is closing") })
	}
	wg.Wait()
}

// lookup returns the process record of a plugin (not necessarily started).
func (h *Host) lookup(kind plugins.Kind, name string) (*proc, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, fmt.Errorf("plugin %s (%s): the plugin host is closed", name, kind)
	}
	k := key{kind, name}
	if p, ok := h.procs[k]; ok {
		return p, nil
	}
	e, ok := h.entries[k]
	if !ok {
		return nil, fmt.Errorf("plugin %s (%s) is not configured (add it to %s)", name, kind, plugins.ConfigKey(kind))
	}
	p := &proc{h: h, entry: e, log: h.log.Named(e.Name)}
	h.procs[k] = p
	return p, nil
}

// ensure returns a started, initialised plugin of kind.
func (h *Host) ensure(ctx context.Context, kind plugins.Kind, name string) (*proc, any, error) {
	p, err := h.lookup(kind, name)
	if err != nil {
		return nil, nil, err
	}
	raw, err := p.ensure(ctx)
	return p, raw, err
}

// TrafficRouter returns the traffic router named name, starting it (and running InitPlugin) if
// needed. The returned router checks the process on every call: a crashed plugin is respawned
// and re-initialised, a failed InitPlugin is retried.
func (h *Host) TrafficRouter(ctx context.Context, name string) (plugins.TrafficRouter, error) {
	if _, _, err := h.ensure(ctx, plugins.KindTrafficRouter, name); err != nil {
		return nil, err
	}
	return &routerHandle{h: h, name: name}, nil
}

// MetricProvider returns the metric provider named name (see TrafficRouter).
func (h *Host) MetricProvider(ctx context.Context, name string) (plugins.MetricProvider, error) {
	if _, _, err := h.ensure(ctx, plugins.KindMetricProvider, name); err != nil {
		return nil, err
	}
	return &providerHandle{h: h, name: name}, nil
}
