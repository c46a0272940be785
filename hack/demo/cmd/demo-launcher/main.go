// Command demo-launcher runs one demo-listener process per Ready pod of the
// demo's Rollout and keeps the proxy's address map current; SIGTERM stops
// every listener.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nerve-rollouts/nerve/e2e/framework/launcher"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo-launcher:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg launcher.Config
	var st launcher.ExecStarter
	var kubeconfig string
	pflag.StringVar(&kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the local control plane")
	pflag.StringVarP(&cfg.Namespace, "namespace", "n", "clinical-ingestion", "namespace of the pods")
	pflag.StringVarP(&cfg.Selector, "selector", "l", "app=mllp-listener", "label selector of the Rollout's pods")
	pflag.Int32Var(&cfg.Port, "port", 2575, "the pods' MLLP container port")
	pflag.StringVar(&cfg.AddressMap, "address-map", "", "address map file the proxy reads")
	pflag.DurationVar(&cfg.DrainDelay, "drain-delay", 0, "how long a listener keeps serving after its pod went (default 3s)")
	pflag.StringVar(&st.Binary, "listener", "", "path of the demo-listener binary")
	pflag.StringVar(&st.LogDir, "log-dir", "", "directory of the listeners' event logs")
	pflag.StringVar(&st.PidDir, "pid-dir", "", "directory for the listeners' pid files")
	planBase := pflag.Int("port-base", 0, "fixed port plan: pod IP <prefix>.c.d listens on 127.0.0.1:<base>+c*256+d and the address map is the whole plan (0: free ports, JSON map)")
	planPrefix := pflag.String("pod-cidr-prefix", "10.244", "first two octets of the fake nodes' pod CIDR (port plan)")
	pflag.Parse()
	if *planBase > 0 {
		cfg.Plan = &launcher.PortPlan{Prefix: *planPrefix, Base: *planBase}
	}
	if cfg.AddressMap == "" || st.Binary == "" || st.LogDir == "" {
		return fmt.Errorf("--address-map, --listener and --log-dir are required")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	lg := log.New(os.Stderr, "[launcher] ", log.LstdFlags|log.Lmicroseconds)
	return launcher.New(cfg, cs, st, lg.Printf).Run(ctx)
}
