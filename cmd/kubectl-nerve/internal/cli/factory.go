package cli

import (
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"golang.org/x/term"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/nerve-rollouts/nerve/router/gatewayapi"
)

// Factory gives commands their clients and environment. NewFactory fills every field for the
// real world; tests replace the functions.
type Factory struct {
	// Getter holds the standard kubectl flags (--kubeconfig, --context, -n, ...).
	Getter RESTClientGetter
	// Now is the clock.
	Now func() time.Time
	// Dynamic, Kube and Gateway build the API clients.
	Dynamic func() (dynamic.Interface, error)
	Kube    func() (*Kube, error)
	Gateway func() (*gatewayapi.Clients, error)
	// Getenv reads the environment (NO_COLOR, PROMETHEUS_URL, PATH).
	Getenv func(string) string
	// LookPath finds an executable on PATH.
	LookPath func(string) (string, error)
	// IsTerminal reports whether w is a terminal.
	IsTerminal func(w io.Writer) bool
	// RunCommand runs a program and returns its standard output (doctor's kubectl version).
	RunCommand func(name string, args ...string) ([]byte, error)
}

// NewFactory returns a Factory for the real cluster described by getter.
func NewFactory(getter RESTClientGetter) *Factory {
	// The kubeconfig is read once per process; the clients share the config (and so the
	// connection).
	restConfig := sync.OnceValues(func() (*rest.Config, error) {
		cfg, err := getter.ToRESTConfig()
		if err != nil {
			return nil, err
		}
		cfg.QPS, cfg.Burst = 50, 100
		return cfg, nil
	})
	return &Factory{
		Getter: getter,
		Now:    time.Now,
		Dynamic: func() (dynamic.Interface, error) {
			cfg, err := restConfig()
			if err != nil {
				return nil, err
			}
			return dynamic.NewForConfig(cfg)
		},
		Kube: func() (*Kube, error) {
			cfg, err := restConfig()
			if err != nil {
				return nil, err
			}
			return newKube(cfg)
		},
		Gateway: func() (*gatewayapi.Clients, error) {
			cfg, err := restConfig()
			if err != nil {
				return nil, err
			}
			return gatewayapi.NewClients(cfg)
		},
		Getenv:     os.Getenv,
		LookPath:   exec.LookPath,
		IsTerminal: isTerminal,
		RunCommand: func(name string, args ...string) ([]byte, error) {
			return exec.Command(name, args...).Output()
		},
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Namespace returns the namespace from -n or the kubeconfig context.
func (f *Factory) Namespace() (string, error) {
	ns, _, err := f.Getter.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", err
	}
	if ns == "" {
		ns = "default"
	}
	return ns, nil
}

// Color reports whether to colour output written to w: a terminal, no --no-color, no NO_COLOR,
// and TERM is not dumb.
func (f *Factory) Color(w io.Writer, noColor bool) bool {
	if noColor || f.Getenv("NO_COLOR") != "" || f.Getenv("TERM") == "dumb" {
		return false
	}
	return f.IsTerminal(w)
}
