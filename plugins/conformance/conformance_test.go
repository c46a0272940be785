package conformance_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance"
	"github.com/nerve-rollouts/nerve/plugins/conformance/testbin"
)

var bins map[string]string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nerve-conformance-test")
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

func TestGoodPluginsPassBothModes(t *testing.T) {
	for _, functional := range []bool{false, true} {
		t.Run(fmt.Sprintf("functional=%v", functional), func(t *testing.T) {
			opts := conformance.Options{Functional: functional, Name: "test/x", Config: []byte(`{"a":1}`)}
			for _, rep := range []*conformance.Report{
				conformance.RunTrafficRouter(t, bins[testbin.GoodRouter], opts),
				conformance.RunMetricProvider(t, bins[testbin.GoodProvider], opts),
			} {
				if !rep.Passed() {
					t.Errorf("%s did not pass", rep.Kind)
				}
			}
		})
	}
}

func TestKindDetected(t *testing.T) {
	for bin, kind := range map[string]plugins.Kind{testbin.GoodRouter: plugins.KindTrafficRouter, testbin.GoodProvider: plugins.KindMetricProvider} {
		rep, err := conformance.Run(context.Background(), bins[bin], conformance.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Kind != kind || !rep.Passed() || len(rep.Results) != map[plugins.Kind]int{plugins.KindTrafficRouter: 9, plugins.KindMetricProvider: 8}[kind] {
			t.Errorf("%s: kind %s passed=%v results=%v", bin, rep.Kind, rep.Passed(), rep.Results)
		}
	}
}

// failing runs the suite and returns the report's text, asserting it failed.
func failing(t *testing.T, bin string, opts conformance.Options) string {
	t.Helper()
	rep, err := conformance.Run(context.Background(), bin, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_ = rep.Write(&b)
	t.Log("\n" + b.String())
	if rep.Passed() {
		t.Fatal("a broken plugin passed")
	}
	return b.String()
}

func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Errorf("output lacks %q", l)
		}
	}
}

func TestBrokenPluginsFailClearly(t *testing.T) {
	t.Run("wrong cookie", func(t *testing.T) {
		out := failing(t, bins[testbin.WrongCookie], conformance.Options{})
		wantLines(t, out, "FAIL start: cannot detect the plugin kind", "refused every handshake")
		out = failing(t, bins[testbin.WrongCookie], conformance.Options{Kind: plugins.KindTrafficRouter})
		wantLines(t, out, "FAIL start: plugin nerve/conformance (trafficrouter): wrong magic cookie")
	})
	t.Run("gob-incompatible field", func(t *testing.T) {
		out := failing(t, bins[testbin.GobBad], conformance.Options{})
		wantLines(t, out, "PASS start", "PASS Plugin.Type",
			"FAIL Plugin.SetWeight: without InitPlugin: call did not cross the wire: Plugin.SetWeight rpc call error: gob: wrong type (map[string]string) for received field RolloutTrafficRouting.Plugins")
	})
	t.Run("panics before InitPlugin", func(t *testing.T) {
		out := failing(t, bins[testbin.GoodRouter], conformance.Options{Args: []string{"--panic-before-init"}})
		wantLines(t, out, "FAIL Plugin.SetWeight: without InitPlugin: plugin process crashed",
			"stderr: panic: SetWeight called before InitPlugin: nil pointer dereference; after InitPlugin: ok")
	})
	t.Run("crashes mid-call", func(t *testing.T) {
		out := failing(t, bins[testbin.GoodProvider], conformance.Options{Args: []string{"--crash-on=Run"}})
		wantLines(t, out, "FAIL Plugin.Run: without InitPlugin: plugin process crashed", "panic: crashing in Run as told",
			"PASS Plugin.Resume", "PASS Plugin.GarbageCollect")
	})
	t.Run("InitPlugin fails", func(t *testing.T) {
		// Wire mode tolerates it (an application error); functional mode does not.
		opts := conformance.Options{Args: []string{"--init-fails=5"}}
		rep, err := conformance.Run(context.Background(), bins[testbin.GoodRouter], opts)
		if err != nil || !rep.Passed() {
			t.Fatalf("wire mode: %v %v", err, rep.Results)
		}
		opts.Functional = true
		out := failing(t, bins[testbin.GoodRouter], opts)
		wantLines(t, out, "FAIL Plugin.InitPlugin: after InitPlugin: error on the happy path: init failure 1 of 5")
	})
	t.Run("not a plugin", func(t *testing.T) {
		out := failing(t, bins[testbin.NotPlugin], conformance.Options{})
		wantLines(t, out, "FAIL start", "not a plugin", "hello, I am not a plugin")
	})
	t.Run("exits at start", func(t *testing.T) {
		out := failing(t, bins[testbin.CrashAtStart], conformance.Options{Kind: plugins.KindMetricProvider})
		wantLines(t, out, "FAIL start", "exited at start", "cannot load config")
	})
}
