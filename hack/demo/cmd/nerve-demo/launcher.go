package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nerve-rollouts/nerve/e2e/framework/launcher"
)

// setupLauncher is `nerve-demo launcher`: one `nerve-demo listener` process
// per Ready pod of the demo's Rollout (e2e/framework/launcher), with the
// proxy's address map; SIGTERM stops every listener.
func setupLauncher(fs *pflag.FlagSet, _ io.Writer) func(context.Context, []string) error {
	var cfg launcher.Config
	st := launcher.ExecStarter{Args: []string{"listener"}}
	kubeconfig := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the local control plane")
	fs.StringVarP(&cfg.Namespace, "namespace", "n", "clinical-ingestion", "namespace of the pods")
	fs.StringVarP(&cfg.Selector, "selector", "l", "app=mllp-listener", "label selector of the Rollout's pods")
	fs.Int32Var(&cfg.Port, "port", 2575, "the pods' MLLP container port")
	fs.StringVar(&cfg.AddressMap, "address-map", "", "address map file the proxy reads")
	fs.DurationVar(&cfg.DrainDelay, "drain-delay", 0, "how long a listener keeps serving after its pod went (default 3s)")
	fs.StringVar(&st.LogDir, "log-dir", "", "directory of the listeners' event logs")
	fs.StringVar(&st.PidDir, "pid-dir", "", "directory for the listeners' pid files")
	planBase := fs.Int("port-base", 0, "fixed port plan: pod IP <prefix>.c.d listens on 127.0.0.1:<base>+c*256+d and the address map is the whole plan (0: free ports, JSON map)")
	planPrefix := fs.String("pod-cidr-prefix", "10.244", "first two octets of the fake nodes' pod CIDR (port plan)")
	return func(ctx context.Context, _ []string) error {
		if *planBase > 0 {
			cfg.Plan = &launcher.PortPlan{Prefix: *planPrefix, Base: *planBase}
		}
		if cfg.AddressMap == "" || st.LogDir == "" {
			return fmt.Errorf("--address-map and --log-dir are required")
		}
		// The listeners are this program's `listener` subcommand.
		self, err := os.Executable()
		if err != nil {
			return err
		}
		st.Binary = self
		rc, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
		if err != nil {
			return err
		}
		cs, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return err
		}
		lg := log.New(os.Stderr, "[launcher] ", log.LstdFlags|log.Lmicroseconds)
		return launcher.New(cfg, cs, st, lg.Printf).Run(ctx)
	}
}
