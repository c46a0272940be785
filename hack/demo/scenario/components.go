package scenario

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	"sigs.k8s.io/yaml"
)

// Plugin registry keys of argo-rollouts-config (Argo's format).
const (
	configMapName     = "argo-rollouts-config"
	trafficRouterKey  = "trafficRouterPlugins"
	metricProviderKey = "metricProviderPlugins"
	addressMapFile    = "address-map"
	// PortBase is the launcher's port plan: pod IP 10.244.c.d listens on
	// 127.0.0.1:PortBase+c*256+d.
	PortBase            = 21000
	generatorLogName    = "generator.jsonl"
	proxyServiceLabel   = "nerve_demo_run"
	controllerNameLabel = "nerve-controller"
)

func (r *runner) nerveBin(name string) string { return filepath.Join(r.cfg.Bin, name) }
func (r *runner) demoBin(name string) string  { return filepath.Join(r.cfg.DemoBin, name) }

// registerPlugins applies argo-rollouts-config from `kubectl nerve plugins
// config --dir bin/plugins` (real sha256s, file:// locations), falling back
// to computing the checksums here when the CLI cannot.
func (r *runner) registerPlugins(ctx context.Context) error {
	// The plugin host checks each binary's sha256 at every start: register a
	// snapshot of bin/plugins, so a concurrent `make build` cannot change a
	// binary under a running demo.
	dir, err := r.snapshotPlugins()
	if err != nil {
		return err
	}
	var cm []byte
	if _, serr := os.Stat(filepath.Join(dir, "nerve-mllp")); serr != nil {
		r.say("WARNING: bin/plugins/nerve-mllp is not built: registering the demo's stand-in router (hack/demo/mllpshim) as nerve/mllp")
		cm, err = r.ownRegistry(dir, registryEntryFor("nerve/mllp", r.demoBin("demo-mllp-router")))
	} else {
		cmd := exec.CommandContext(ctx, r.nerveBin("kubectl-nerve"), "plugins", "config", "--dir", dir,
			"--config-namespace", r.cfg.ControllerNamespace)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+r.cfg.Kubeconfig)
		if cm, err = cmd.Output(); err != nil {
			r.say("kubectl nerve plugins config failed (%v): computing the sha256s here", err)
			cm, err = r.ownRegistry(dir)
		}
	}
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

type registryEntry struct {
	Name     string `json:"name"`
	Location string `json:"location"`
	SHA256   string `json:"sha256"`
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

// registryEntryFor describes one plugin binary (an error is kept for ownRegistry to report).
func registryEntryFor(name, path string) func() (registryEntry, error) {
	return func() (registryEntry, error) {
		abs, err := filepath.Abs(path)
		if err != nil {
			return registryEntry{}, err
		}
		sum, err := fileSHA256(abs)
		return registryEntry{Name: name, Location: "file://" + abs, SHA256: sum}, err
	}
}

// ownRegistry builds the ConfigMap for the plugins in dir (nerve-<x> → nerve/<x>)
// plus extra traffic routers.
func (r *runner) ownRegistry(dir string, extraRouters ...func() (registryEntry, error)) ([]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var routers, providers []registryEntry
	for _, x := range extraRouters {
		ent, err := x()
		if err != nil {
			return nil, err
		}
		routers = append(routers, ent)
	}
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), "nerve-")
		if !ok || e.IsDir() || strings.Contains(name, ".") {
			continue
		}
		path, err := filepath.Abs(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		sum, err := fileSHA256(path)
		if err != nil {
			return nil, err
		}
		ent := registryEntry{Name: "nerve/" + name, Location: "file://" + path, SHA256: sum}
		if name == "prometheus" {
			providers = append(providers, ent)
		} else {
			routers = append(routers, ent)
		}
	}
	data := map[string]string{}
	for key, list := range map[string][]registryEntry{trafficRouterKey: routers, metricProviderKey: providers} {
		b, err := yaml.Marshal(list)
		if err != nil {
			return nil, err
		}
		data[key] = string(b)
	}
	return yaml.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": configMapName, "namespace": r.cfg.ControllerNamespace},
		"data":     data,
	})
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
		"--kubeconfig", r.cfg.Kubeconfig,
		"--namespace", r.cfg.Namespace,
		"--selector", PodSelector,
		"--port", strconv.Itoa(MLLPPort),
		"--address-map", filepath.Join(r.cfg.RunDir, addressMapFile),
		"--listener", r.demoBin("demo-listener"),
		"--log-dir", r.cfg.RunDir,
		"--pid-dir", r.cfg.PidDir,
		"--port-base", strconv.Itoa(PortBase),
	}
	p, err := r.start("launcher", r.demoBin("demo-launcher"), args)
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
		"--addr", r.proxyAddr,
		"--senders", strconv.Itoa(r.cfg.Senders),
		"--patients", strconv.Itoa(r.cfg.Patients),
		"--rate", strconv.FormatFloat(r.cfg.Rate, 'f', -1, 64),
		"--run-id", "NRV" + r.runID,
		"--log", filepath.Join(r.cfg.RunDir, generatorLogName),
	}
	_, err := r.start("generator", r.demoBin("demo-generator"), args)
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
