package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance/testbin"
)

// bins maps test plugin names to binaries built once by TestMain.
var bins map[string]string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nerve-host-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err = testbin.Build(dir)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// entry returns a verified file:// entry for a test plugin.
func entry(t *testing.T, kind plugins.Kind, name, bin string, args ...string) Entry {
	t.Helper()
	sum, err := FileSHA256(bins[bin])
	if err != nil {
		t.Fatal(err)
	}
	return Entry{Name: name, Kind: kind, Location: "file://" + bins[bin], SHA256: sum, Args: args}
}

// newHost returns a host (closed at test end) running the given entries.
func newHost(t *testing.T, opts Options, entries ...Entry) *Host {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = hclog.New(&hclog.LoggerOptions{Name: "test", Output: testWriter{t}, Level: hclog.Debug})
	}
	h := New(opts)
	var reg Registry
	for _, e := range entries {
		if e.Kind == plugins.KindMetricProvider {
			reg.MetricProviders = append(reg.MetricProviders, e)
		} else {
			reg.TrafficRouters = append(reg.TrafficRouters, e)
		}
	}
	h.SetRegistry(reg)
	t.Cleanup(h.Close)
	return h
}

// testWriter sends logs to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func rollout() *v1alpha1.Rollout {
	ro := &v1alpha1.Rollout{}
	ro.Name, ro.Namespace = "web", "default"
	return ro
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error containing %q, got nil", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q\ndoes not contain %q", err, p)
		}
	}
}

func TestRouterAllMethods(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, Options{}, entry(t, plugins.KindTrafficRouter, "test/router", testbin.GoodRouter))
	if !h.Has(plugins.KindTrafficRouter, "test/router") || h.Has(plugins.KindMetricProvider, "test/router") {
		t.Fatal("Has is wrong")
	}
	r, err := h.TrafficRouter(ctx, "test/router")
	if err != nil {
		t.Fatal(err)
	}
	ro := rollout()
	if typ, err := r.Type(ctx); err != nil || typ != "TestRouter" {
		t.Fatalf("Type = %q, %v", typ, err)
	}
	steps := []error{
		r.InitPlugin(ctx),
		r.UpdateHash(ctx, ro, "c", "s", nil),
		r.SetWeight(ctx, ro, 30, nil),
		r.SetHeaderRoute(ctx, ro, &v1alpha1.SetHeaderRoute{Name: "h"}),
		r.SetMirrorRoute(ctx, ro, &v1alpha1.SetMirrorRoute{Name: "m"}),
		r.RemoveManagedRoutes(ctx, ro),
	}
	for i, err := range steps {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if v, err := r.VerifyWeight(ctx, ro, 30, nil); err != nil || v != plugins.Verified {
		t.Fatalf("VerifyWeight = %v, %v", v, err)
	}
}

func TestProviderAllMethods(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, Options{}, entry(t, plugins.KindMetricProvider, "test/provider", testbin.GoodProvider))
	p, err := h.MetricProvider(ctx, "test/provider")
	if err != nil {
		t.Fatal(err)
	}
	m := v1alpha1.Metric{Name: "ok", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"test/provider": json.RawMessage(`{}`)}}}
	run := &v1alpha1.AnalysisRun{}
	ms, err := p.Run(ctx, run, m)
	if err != nil || ms.Phase != v1alpha1.AnalysisPhaseSuccessful || ms.Value != "ok" {
		t.Fatalf("Run = %+v, %v", ms, err)
	}
	if _, err := p.Resume(ctx, run, m, ms); err != nil {
		t.Error(err)
	}
	if _, err := p.Terminate(ctx, run, m, ms); err != nil {
		t.Error(err)
	}
	if err := p.GarbageCollect(ctx, run, m, 10); err != nil {
		t.Error(err)
	}
	md, err := p.GetMetadata(ctx, m)
	if err != nil || md["metric"] != "ok" {
		t.Errorf("GetMetadata = %v, %v", md, err)
	}
	if typ, err := p.Type(ctx); err != nil || typ != "TestProvider" {
		t.Errorf("Type = %q, %v", typ, err)
	}
}

func TestStartErrors(t *testing.T) {
	good := entry(t, plugins.KindTrafficRouter, "test/r", testbin.GoodRouter)
	badSum := good
	badSum.SHA256 = strings.Repeat("ab", 32)
	noSum := good
	noSum.SHA256 = ""
	missing := good
	missing.Location = "file://" + filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name  string
		e     Entry
		parts []string
	}{
		{"missing binary", missing, []string{"plugin test/r (trafficrouter)", "missing binary", "nope"}},
		{"checksum mismatch", badSum, []string{"plugin test/r", "checksum mismatch", "expected sha256 " + badSum.SHA256, "got " + good.SHA256}},
		{"no checksum", noSum, []string{"plugin test/r", "no sha256 configured", "refusing to run an unverified binary"}},
		{"wrong cookie", entry(t, plugins.KindTrafficRouter, "test/r", testbin.WrongCookie),
			[]string{"plugin test/r", "wrong magic cookie", "ARGO_ROLLOUTS_RPC_PLUGIN=trafficrouter", "not a trafficrouter plugin"}},
		{"metric provider as router", entry(t, plugins.KindTrafficRouter, "test/r", testbin.GoodProvider),
			[]string{"plugin test/r", "wrong magic cookie"}},
		{"not a plugin", entry(t, plugins.KindTrafficRouter, "test/r", testbin.NotPlugin),
			[]string{"plugin test/r", "not a plugin", "hello, I am not a plugin"}},
		{"exits at start", entry(t, plugins.KindTrafficRouter, "test/r", testbin.CrashAtStart),
			[]string{"plugin test/r", "exited at start", "plugin stderr (tail): crashatstart: cannot load config"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, Options{StartTimeout: 10 * time.Second}, tc.e)
			_, err := h.TrafficRouter(context.Background(), "test/r")
			wantErr(t, err, tc.parts...)
			t.Log(err)
		})
	}
}

func TestNotConfigured(t *testing.T) {
	h := newHost(t, Options{})
	_, err := h.MetricProvider(context.Background(), "x/y")
	wantErr(t, err, "plugin x/y (metricprovider) is not configured", "metricProviderPlugins")
}

func TestAllowUnverified(t *testing.T) {
	e := entry(t, plugins.KindTrafficRouter, "test/r", testbin.GoodRouter)
	e.SHA256 = ""
	h := newHost(t, Options{AllowUnverified: true}, e)
	r, err := h.TrafficRouter(context.Background(), "test/r")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Type(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestCrashMidCallRespawns(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, Options{}, entry(t, plugins.KindTrafficRouter, "test/r", testbin.GoodRouter, "--crash-on=SetWeight"))
	r, err := h.TrafficRouter(ctx, "test/r")
	if err != nil {
		t.Fatal(err)
	}
	err = r.SetWeight(ctx, rollout(), 10, nil)
	wantErr(t, err, "plugin test/r (trafficrouter)", "Plugin.SetWeight rpc call error", "process exited during the call",
		"crashing in SetWeight")
	t.Log(err)
	// The next call respawns the process (and re-runs InitPlugin) transparently.
	if err := r.UpdateHash(ctx, rollout(), "a", "b", nil); err != nil {
		t.Fatalf("after respawn: %v", err)
	}
}

func TestInitPluginRetried(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, Options{}, entry(t, plugins.KindMetricProvider, "test/p", testbin.GoodProvider, "--init-fails=1"))
	_, err := h.MetricProvider(ctx, "test/p")
	wantErr(t, err, "plugin test/p (metricprovider)", "InitPlugin failed (retried on the next call)", "init failure 1 of 1")
	p, err := h.MetricProvider(ctx, "test/p")
	if err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if _, err := p.Type(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCallTimeout(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, Options{CallTimeout: 200 * time.Millisecond},
		entry(t, plugins.KindTrafficRouter, "test/r", testbin.GoodRouter, "--sleep=3s"))
	r, err := h.TrafficRouter(ctx, "test/r")
	if err != nil {
		t.Fatal(err)
	}
	err = r.SetWeight(ctx, rollout(), 10, nil)
	wantErr(t, err, "plugin test/r", "Plugin.SetWeight rpc call error", "timed out")
	if !errors.Is(err, plugins.ErrCallTimeout) {
		t.Errorf("%v does not wrap ErrCallTimeout", err)
	}
}

func TestApplicationErrorKeepsPluginError(t *testing.T) {
	ctx := context.Background()
	echo := filepath.Join(t.TempDir(), "sub", "echo") // unwritable path: every call fails in the plugin
	h := newHost(t, Options{}, entry(t, plugins.KindTrafficRouter, "test/r", testbin.GoodRouter, "--echo="+echo))
	r, err := h.TrafficRouter(ctx, "test/r")
	if err != nil {
		t.Fatal(err)
	}
	err = r.RemoveManagedRoutes(ctx, rollout())
	var pe *plugins.PluginError
	if !errors.As(err, &pe) {
		t.Fatalf("want a PluginError, got %v", err)
	}
	wantErr(t, err, "plugin test/r (trafficrouter)", "no such file or directory")
}

func TestSetRegistryKillsChangedAndRemoved(t *testing.T) {
	ctx := context.Background()
	a := entry(t, plugins.KindTrafficRouter, "test/a", testbin.GoodRouter)
	b := entry(t, plugins.KindMetricProvider, "test/b", testbin.GoodProvider)
	h := newHost(t, Options{}, a, b)
	if _, err := h.TrafficRouter(ctx, "test/a"); err != nil {
		t.Fatal(err)
	}
	p, err := h.MetricProvider(ctx, "test/b")
	if err != nil {
		t.Fatal(err)
	}
	clientA := h.procs[key{plugins.KindTrafficRouter, "test/a"}].client
	clientB := h.procs[key{plugins.KindMetricProvider, "test/b"}].client
	a2 := a
	a2.Args = []string{"--sleep=1ms"}
	h.SetRegistry(Registry{TrafficRouters: []Entry{a2}})
	if !clientA.Exited() || !clientB.Exited() {
		t.Fatalf("changed/removed plugins still running: a exited=%v b exited=%v", clientA.Exited(), clientB.Exited())
	}
	if _, err := p.Type(ctx); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("removed plugin: %v", err)
	}
	r, err := h.TrafficRouter(ctx, "test/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Type(ctx); err != nil {
		t.Fatal(err)
	}
	// An unchanged entry keeps its process.
	clientA2 := h.procs[key{plugins.KindTrafficRouter, "test/a"}].client
	h.SetRegistry(Registry{TrafficRouters: []Entry{a2}})
	if clientA2.Exited() || h.procs[key{plugins.KindTrafficRouter, "test/a"}] == nil {
		t.Fatal("unchanged plugin was restarted")
	}
}

func TestCloseKillsChildren(t *testing.T) {
	h := New(Options{Logger: hclog.NewNullLogger()})
	h.SetRegistry(Registry{TrafficRouters: []Entry{entry(t, plugins.KindTrafficRouter, "test/a", testbin.GoodRouter)}})
	if _, err := h.TrafficRouter(context.Background(), "test/a"); err != nil {
		t.Fatal(err)
	}
	c := h.procs[key{plugins.KindTrafficRouter, "test/a"}].client
	h.Close()
	if !c.Exited() {
		t.Fatal("child still running after Close")
	}
	_, err := h.TrafficRouter(context.Background(), "test/a")
	wantErr(t, err, "closed")
}

func TestHTTPSDownload(t *testing.T) {
	body, err := os.ReadFile(bins[testbin.GoodProvider])
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0ken" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	good := entry(t, plugins.KindMetricProvider, "argoproj/sample", testbin.GoodProvider)
	good.Location = srv.URL + "/plugin"
	good.HeadersFrom = []string{"creds"}
	work := t.TempDir()
	opts := Options{WorkDir: work, HTTPClient: srv.Client(),
		DownloadHeaders: func(_ context.Context, secret string) (map[string]string, error) {
			return map[string]string{"Authorization": "Bearer t0ken"}, nil
		}}
	h := newHost(t, opts, good)
	if _, err := h.MetricProvider(context.Background(), "argoproj/sample"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(work, "plugin-bin", "argoproj", "sample")); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Name = "argoproj/other"
	bad.SHA256 = strings.Repeat("0", 64)
	h2 := newHost(t, opts, bad)
	_, err = h2.MetricProvider(context.Background(), "argoproj/other")
	wantErr(t, err, "plugin argoproj/other (metricprovider)", "checksum mismatch", "expected sha256 "+bad.SHA256, "got "+good.SHA256)
}

func TestRelativeFileLocation(t *testing.T) {
	work := t.TempDir()
	data, err := os.ReadFile(bins[testbin.GoodRouter])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "router"), data, 0o700); err != nil {
		t.Fatal(err)
	}
	e := entry(t, plugins.KindTrafficRouter, "test/rel", testbin.GoodRouter)
	e.Location = "file://./router"
	h := newHost(t, Options{WorkDir: work}, e)
	if _, err := h.TrafficRouter(context.Background(), "test/rel"); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentCallsAndRespawn(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, Options{Logger: hclog.NewNullLogger()},
		entry(t, plugins.KindTrafficRouter, "test/r", testbin.GoodRouter, "--crash-on=SetHeaderRoute"))
	r, err := h.TrafficRouter(ctx, "test/r")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			ro := rollout()
			ro.Name = fmt.Sprintf("web-%d", i)
			for j := 0; j < 10; j++ {
				if err := r.SetWeight(ctx, ro, int32(j), nil); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	// A crash in the middle is contained to the calls in flight; the plugin comes back.
	if err := r.SetHeaderRoute(ctx, rollout(), &v1alpha1.SetHeaderRoute{Name: "h"}); err == nil {
		t.Fatal("want the crash")
	}
	if v, err := r.VerifyWeight(ctx, rollout(), 0, nil); err != nil || v != plugins.NotVerified {
		t.Fatalf("after respawn: %v %v (a fresh process has no weights)", v, err)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
