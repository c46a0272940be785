package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Names and ports of the scenario's components.
const (
	configMapName  = "argo-rollouts-config"
	addressMapFile = "address-map"
	// PortBase is the launcher's port plan: pod IP 10.244.c.d listens on
	// 127.0.0.1:PortBase+c*256+d.
	PortBase            = 21000
	generatorLogName    = "generator.jsonl"
	proxyServiceLabel   = "nerve_demo_run"
	controllerNameLabel = "nerve-controller"
)

func (r *runner) nerveBin(name string) string { return filepath.Join(r.cfg.Bin, name) }

// demoProgram is the nerve-demo program, whose subcommands are the demo's processes.
func (r *runner) demoProgram() string { return filepath.Join(r.cfg.DemoBin, "nerve-demo") }

// registerPlugins applies argo-rollouts-config exactly as `kubectl nerve
// plugins config --dir` prints it for a snapshot of bin/plugins (real sha256s,
// file:// locations): the demo runs nerve's own router and metric provider
// plugins and never builds the registry itself.
func (r *runner) registerPlugins(ctx context.Context) error {
	for _, p := range requiredPlugins() {
		if _, err := os.Stat(filepath.Join(r.cfg.Bin, "plugins", p)); err != nil {
			return fmt.Errorf("%s is missing: run make build", filepath.Join(r.cfg.Bin, "plugins", p))
		}
	}
	// The plugin host checks each binary's sha256 at every start: register a
	// snapshot of bin/plugins, so a concurrent `make build` cannot change a
	// binary under a running demo.
	dir, err := r.snapshotPlugins()
	if err != nil {
		return err
	}
	cm, err := r.pluginsConfig(ctx, dir)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.cfg.RunDir, configMapName+".yaml"), cm, 0o644); err != nil {
		return err
	}
	r.say("argo-rollouts-config:\n%s", indent(string(cm), "    "))
	_, err = r.kubectl(ctx, cm, "apply", "--server-side", "--force-conflicts", "--field-manager", "nerve-demo", "-n", r.cfg.ControllerNamespace, "-f", "-")
	return err
}

// requiredPlugins are the plugin binaries the scenario's Rollout uses
// (nerve/mllp routes, nerve/prometheus measures).
func requiredPlugins() []string { return []string{"nerve-mllp", "nerve-prometheus"} }

// pluginsConfig is the ConfigMap `kubectl nerve plugins config` prints for dir;
// its stderr is the error when it fails.
func (r *runner) pluginsConfig(ctx context.Context, dir string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, r.nerveBin("kubectl-nerve"), "plugins", "config", "--dir", dir,
		"--config-namespace", r.cfg.ControllerNamespace)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+r.cfg.Kubeconfig)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cm, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kubectl nerve plugins config --dir %s: %w: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	return cm, nil
}

// snapshotPlugins copies bin/plugins into the run directory (removed by cleanup).
func (r *runner) snapshotPlugins() (string, error) {
	src := filepath.Join(r.cfg.Bin, "plugins")
	dst := filepath.Join(r.cfg.RunDir, "plugins")
	entries, err := os.ReadDir(src)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), "nerve-") || strings.Contains(e.Name(), ".") {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return "", err
		}
	}
	return dst, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

// freePort returns a 127.0.0.1 port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (r *runner) startController() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	args := []string{
		"--kubeconfig", r.cfg.Kubeconfig,
		"--controller-namespace", r.cfg.ControllerNamespace,
		"--namespace", r.cfg.Namespace,
		"--leader-elect=false",
		"--metrics-addr", "127.0.0.1:" + strconv.Itoa(port),
	}
	p, err := r.start(controllerNameLabel, r.nerveBin("nerve-controller"), args)
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	if p.exited() {
		return r.failWithLogs(fmt.Errorf("nerve-controller exited at start"), p.name)
	}
	return nil
}

func (r *runner) startLauncher(ctx context.Context) error {
	args := []string{
		"launcher",
		"--kubeconfig", r.cfg.Kubeconfig,
		"--namespace", r.cfg.Namespace,
		"--selector", PodSelector,
		"--port", strconv.Itoa(MLLPPort),
		"--address-map", filepath.Join(r.cfg.RunDir, addressMapFile),
		"--log-dir", r.cfg.RunDir,
		"--pid-dir", r.cfg.PidDir,
		"--port-base", strconv.Itoa(PortBase),
	}
	p, err := r.start("launcher", r.demoProgram(), args)
	if err != nil {
		return err
	}
	// The launcher writes the whole port plan as the proxy's address map at start.
	return poll(ctx, 100*time.Millisecond, 10*time.Second, "address map", func(context.Context) (bool, error) {
		if p.exited() {
			return false, r.failWithLogs(fmt.Errorf("launcher exited"), p.name)
		}
		_, err := os.Stat(filepath.Join(r.cfg.RunDir, addressMapFile))
		return err == nil, nil
	})
}

// startProxy runs nerve-mllp-proxy in watch mode on the MLLPRoute and makes
// Prometheus scrape it (a file_sd target).
func (r *runner) startProxy(ctx context.Context) error {
	mllp, err := freePort()
	if err != nil {
		return err
	}
	metrics, err := freePort()
	if err != nil {
		return err
	}
	r.proxyAddr = "127.0.0.1:" + strconv.Itoa(mllp)
	args := []string{
		"--kubeconfig", r.cfg.Kubeconfig,
		"--namespace", r.cfg.Namespace,
		"--route", RouteName,
		"--listen", r.proxyAddr,
		"--metrics-addr", "127.0.0.1:" + strconv.Itoa(metrics),
		"--address-map", filepath.Join(r.cfg.RunDir, addressMapFile),
		"--replica-name", "demo-" + r.runID,
	}
	p, err := r.start("nerve-mllp-proxy", r.nerveBin("nerve-mllp-proxy"), args)
	if err != nil {
		return err
	}
	if err := waitDial(ctx, r.proxyAddr, 20*time.Second); err != nil {
		return r.failWithLogs(fmt.Errorf("nerve-mllp-proxy does not listen on %s: %w", r.proxyAddr, err), p.name)
	}
	return r.registerTarget("127.0.0.1:" + strconv.Itoa(metrics))
}

// registerTarget writes a Prometheus file_sd target for the proxy's metrics.
// The proxy labels its series service="<service>" itself (the label the
// seed's queries select on); the target adds only job and the run id.
func (r *runner) registerTarget(addr string) error {
	if r.cfg.TargetsDir == "" {
		return fmt.Errorf("PROMETHEUS_TARGETS_DIR is not set: run make cluster-up")
	}
	body, err := json.Marshal([]map[string]any{{
		"targets": []string{addr},
		"labels":  map[string]string{"job": "nerve-demo-mllp-proxy", proxyServiceLabel: r.runID},
	}})
	if err != nil {
		return err
	}
	r.target = filepath.Join(r.cfg.TargetsDir, "nerve-demo-"+r.runID+".json")
	// down.sh removes the target if the scenario is killed before its cleanup.
	if err := os.WriteFile(filepath.Join(r.cfg.PidDir, r.runID+".target"), []byte(r.target+"\n"), 0o644); err != nil {
		return err
	}
	return writeFileAtomic(r.target, body)
}

func waitDial(ctx context.Context, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (r *runner) startGenerator() error {
	args := []string{
		"generator",
		"--addr", r.proxyAddr,
		"--senders", strconv.Itoa(r.cfg.Senders),
		"--patients", strconv.Itoa(r.cfg.Patients),
		"--rate", strconv.FormatFloat(r.cfg.Rate, 'f', -1, 64),
		"--run-id", "NRV" + r.runID,
		"--log", filepath.Join(r.cfg.RunDir, generatorLogName),
	}
	_, err := r.start("generator", r.demoProgram(), args)
	return err
}

// startView runs `kubectl nerve get rollout -w` with its output on Out.
func (r *runner) startView(ctx context.Context) *exec.Cmd {
	// The read-only dashboard, for the audience; cleanup stops it with the other processes.
	if port, err := freePort(); err == nil {
		args := []string{"dashboard", "-A", "--read-only", "--address", "127.0.0.1:" + strconv.Itoa(port), "--kubeconfig", r.cfg.Kubeconfig}
		if p, err := r.start("dashboard", r.nerveBin("kubectl-nerve"), args); err == nil {
			for i := 0; i < 50 && !strings.Contains(p.tail(4096), "token="); i++ {
				time.Sleep(100 * time.Millisecond)
			}
			for _, f := range strings.Fields(p.tail(4096)) {
				if strings.HasPrefix(f, "http://") {
					r.say("dashboard (read-only, all namespaces): %s", f)
				}
			}
		}
	}
	cmd := exec.CommandContext(ctx, r.nerveBin("kubectl-nerve"), "get", "rollout", RolloutName,
		"-n", r.cfg.Namespace, "-w", "--until", "completed", "--timeout", r.cfg.Timeout.String())
	cmd.Env = append(os.Environ(), "KUBECONFIG="+r.cfg.Kubeconfig)
	cmd.Stdout, cmd.Stderr = r.cfg.Out, r.cfg.Out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.say("kubectl nerve get rollout -w: %v", err)
		return nil
	}
	return cmd
}

// stopView lets the view print its last state, then ends it.
func (r *runner) stopView(cmd *exec.Cmd) {
	if cmd == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-time.After(3 * time.Second):
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	<-done
}
