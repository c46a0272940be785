//go:build e2e

package dashboard

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nerve-rollouts/nerve/e2e/framework"
)

// startDashboard runs `kubectl-nerve dashboard args...` on a free loopback port with the test
// kubeconfig and returns the URL it printed (with its token).
func startDashboard(t testing.TB, args ...string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", framework.FreePort(t))
	full := append([]string{"dashboard", "--address", addr, "--kubeconfig", os.Getenv(framework.EnvKubeconfig)}, args...)
	p := framework.StartProcess(t, framework.Binary(t, "kubectl-nerve"), full, nil)
	re := regexp.MustCompile(`https?://\S+token=\S+`)
	var url string
	framework.Eventually(t, 30*time.Second, 50*time.Millisecond, func(context.Context) (bool, error) {
		if p.Exited() {
			return false, fmt.Errorf("dashboard exited: %s", p.Output())
		}
		url = re.FindString(p.Output())
		return url != "", nil
	}, "dashboard URL on stdout")
	t.Logf("$ kubectl-nerve %s → %s", strings.Join(full, " "), url)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- dashboard output ---\n%s", p.Output())
		}
	})
	return url
}

// browser starts headless Chromium with its own profile; the returned context drives one tab.
func browser(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		var err error
		if path, err = exec.LookPath("chromium"); err != nil {
			t.Fatalf("chromium not found (apt-get install chromium, or set CHROMIUM): %v", err)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// run runs chromedp actions with a timeout.
func run(t testing.TB, ctx context.Context, timeout time.Duration, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// value runs one chromedp action that returns a value, with a timeout.
func value[T any](t testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// screenshot saves the full page as name.png (quality 100 is PNG; less is JPEG) in the test's artifact directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := value(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	path := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// observerJS records, for each registered check, when (Date.now()) it first held, on every
// DOM mutation: the page measures its own update time.
const observerJS = `(() => {
  window.__checks = {}; window.__seen = {};
  const scan = () => { for (const k in window.__checks) { if (!(k in window.__seen)) { try { if (window.__checks[k]()) window.__seen[k] = Date.now(); } catch (e) {} } } };
  new MutationObserver(scan).observe(document.body, {subtree: true, childList: true, characterData: true});
  window.__marker = 'no reload';
  return true;
})()`

// probe registers check (a JS boolean expression) under key, runs change, and returns the time
// from just before change started until the page's DOM satisfied check.
func probe(t *testing.T, ctx context.Context, key, check string, change func()) time.Duration {
	t.Helper()
	value(t, ctx, "register "+key, chromedp.Evaluate[bool](fmt.Sprintf("window.__checks[%q] = () => (%s); true", key, check)))
	start := time.Now()
	change()
	var seen float64
	deadline := time.Now().Add(15 * time.Second)
	for seen == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("page never showed %s (%s)", key, check)
		}
		time.Sleep(10 * time.Millisecond)
		seen = value(t, ctx, "read "+key, chromedp.Evaluate[float64](fmt.Sprintf("window.__seen[%q] || 0", key)))
	}
	return time.UnixMilli(int64(seen)).Sub(start)
}

// latencyReport logs and returns p50 and max of ds.
func latencyReport(t *testing.T, what string, ds []time.Duration) (p50, maxD time.Duration) {
	t.Helper()
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	p50, maxD = s[len(s)/2], s[len(s)-1]
	t.Logf("update latency (%s, apiserver change → DOM), n=%d: p50=%s max=%s all=%v", what, len(s), p50.Round(time.Millisecond), maxD.Round(time.Millisecond), s)
	return p50, maxD
}

// textOf returns the rendered text of the first element matching css, read in one script:
// the live region is replaced on every update, so a node looked up first and read later may
// already be gone.
func textOf(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	expr := fmt.Sprintf("((document.querySelector(%q) || {}).innerText || '').trim()", css)
	return strings.TrimSpace(value(t, ctx, "text of "+css, chromedp.Evaluate[string](expr)))
}

// clickLive clicks the element matching css inside the live region in one script (see textOf).
func clickLive(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	expr := fmt.Sprintf("(() => { const e = document.querySelector(%q); if (!e) return false; e.click(); return true; })()", css)
	if !value(t, ctx, "click "+css, chromedp.Evaluate[bool](expr)) {
		t.Fatalf("browser: no %s to click", css)
	}
}

// waitJS waits until the JS boolean expression holds in the page.
func waitJS(t *testing.T, ctx context.Context, timeout time.Duration, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if value(t, ctx, what, chromedp.Evaluate[bool](expr)) {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('live') ? document.getElementById('live').innerText : document.body.innerText`))
			t.Fatalf("timed out waiting for %s (%s); page:\n%s", what, expr, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sel is a JS expression for the text of the element matching css (or "").
func sel(css string) string {
	return fmt.Sprintf("((document.querySelector(%q) || {}).textContent || '').trim()", css)
}
