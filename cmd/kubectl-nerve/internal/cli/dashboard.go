package cli

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/metadata"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/dashboard"
	"github.com/nerve-rollouts/nerve/view"
)

const dashboardLong = `Serve a web dashboard of the rollouts: an overview of every namespace in scope, and a page per
rollout with its steps, revision tree, each router's live weights, analysis measurements and
events, updated live. Actions (promote, promote --full, abort, retry, pause, resume, restart) are
offered only where your Kubernetes user may patch the rollout, and never with --read-only.

Scope: -A every namespace you may list rollouts in; -n one namespace; neither: nerve's nine
namespaces that exist (or the current namespace when none does).

The dashboard listens on loopback and prints a URL with a random token, valid until it stops; the
token buys a browser session cookie. A non-loopback --address needs --tls-cert and --tls-key.`

// DashboardOptions are the options of `dashboard`.
type DashboardOptions struct {
	genericiooptions.IOStreams
	f *Factory

	Address       string
	AllNamespaces bool
	ReadOnly      bool
	Open          bool
	TLSCert       string
	TLSKey        string

	loopback bool
}

// NewCmdDashboard is `dashboard [--address A] [-A] [--read-only] [--open]`.
func NewCmdDashboard(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &DashboardOptions{IOStreams: streams, f: f, Address: "127.0.0.1:3100"}
	cmd := &cobra.Command{
		Use:     "dashboard",
		Short:   "Serve a live web dashboard of the rollouts (all namespaces, router weights, analysis)",
		Long:    dashboardLong,
		Example: "  kubectl nerve dashboard -A --open\n  kubectl nerve dashboard -n clinical-ingestion --read-only --address 127.0.0.1:0",
		Args:    exactArgs(0, "no arguments"),
		RunE:    runOptions(o),
	}
	o.AddFlags(cmd)
	return cmd
}

// AddFlags registers the flags.
func (o *DashboardOptions) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&o.Address, "address", o.Address, "Listen address (host:port; port 0 picks a free one)")
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Every namespace you may list rollouts in")
	fs.BoolVar(&o.ReadOnly, "read-only", false, "Offer no action and refuse every action request")
	fs.BoolVar(&o.Open, "open", false, "Open the URL in a browser (xdg-open or open)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate file (required with a non-loopback --address)")
	fs.StringVar(&o.TLSKey, "tls-key", "", "TLS key file")
}

// Complete has nothing to fill.
func (o *DashboardOptions) Complete(_ []string) error { return nil }

// Validate checks the address and the TLS flags.
func (o *DashboardOptions) Validate() error {
	host, _, err := net.SplitHostPort(o.Address)
	if err != nil {
		return usageError("--address %q: %v", o.Address, err)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return usageError("--tls-cert and --tls-key go together")
	}
	o.loopback = isLoopback(host)
	if !o.loopback && o.TLSCert == "" {
		return usageError("--address %s is not loopback: anyone who can reach it could act on rollouts; give --tls-cert and --tls-key, or listen on 127.0.0.1", o.Address)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run resolves the scope, listens, prints the URL and serves until ctx ends.
func (o *DashboardOptions) Run(ctx context.Context) error {
	kube, err := o.f.Kube()
	if err != nil {
		return err
	}
	dyn, err := o.f.Dynamic()
	if err != nil {
		return err
	}
	cfg, err := o.f.Getter.ToRESTConfig()
	if err != nil {
		return err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return err
	}
	gw, err := o.f.Gateway()
	if err != nil {
		return err
	}
	namespaces, scope, err := o.scope(ctx, kube)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.Address)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer l.Close()
	src := &dashboardSource{read: view.Reader{Dynamic: dyn, Kube: kube.view(), Gateway: gw, Now: o.f.Now}, dyn: dyn, kube: kube}
	srv, err := dashboard.New(o.config(src, kube, meta, namespaces, scope, l.Addr().String()))
	if err != nil {
		return err
	}
	url := o.url(l.Addr().String(), srv.Token())
	mode := ""
	if o.ReadOnly {
		mode = ", read-only"
	}
	if err := printf(o.Out, "nerve dashboard (%s%s), Ctrl-C stops it:\n  %s\n", scope, mode, url); err != nil {
		return err
	}
	if o.Open {
		o.open(url)
	}
	return srv.Serve(ctx, l, o.TLSCert, o.TLSKey)
}

func (o *DashboardOptions) config(src *dashboardSource, kube *Kube, meta metadata.Interface, namespaces []string, scope, addr string) dashboard.Config {
	c := dashboard.Config{
		Source: src, Patcher: src, Reviews: accessReviews{kube.AccessReviews},
		Watcher: &dashboard.MetadataWatcher{Client: meta, Namespaces: namespaces, Skipped: func(gvr schema.GroupVersionResource, ns string, err error) {
			if !apierrors.IsNotFound(err) {
				_ = printf(o.ErrOut, "dashboard: not watching %s in %q: %v\n", gvr.Resource, ns, err)
			}
		}},
		Namespaces: namespaces, Scope: scope, ReadOnly: o.ReadOnly, TLS: o.TLSCert != "", Now: o.f.Now,
		Logf: func(format string, args ...any) { _ = printf(o.ErrOut, "dashboard: "+format+"\n", args...) },
	}
	host, _, _ := net.SplitHostPort(addr)
	switch {
	case o.loopback:
		c.Hosts = dashboard.LoopbackHosts(addr)
	case !net.ParseIP(host).IsUnspecified():
		c.Hosts = []string{addr}
	}
	return c
}

func (o *DashboardOptions) url(addr, token string) string {
	scheme := "http"
	if o.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + addr + "/?token=" + token
}

func (o *DashboardOptions) open(url string) {
	for _, name := range []string{"xdg-open", "open"} {
		if path, err := o.f.LookPath(name); err == nil {
			if err := exec.Command(path, url).Start(); err == nil {
				return
			}
		}
	}
	_ = printf(o.ErrOut, "dashboard: no xdg-open or open on PATH; open the URL yourself\n")
}

// scope returns the namespaces to show (nil: all) and a description.
func (o *DashboardOptions) scope(ctx context.Context, kube *Kube) ([]string, string, error) {
	if o.AllNamespaces {
		return o.allNamespaces(ctx, kube)
	}
	ns, explicit, err := o.f.Getter.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, "", err
	}
	if explicit {
		return []string{ns}, "namespace " + ns, nil
	}
	var found []string
	for _, n := range dashboard.NerveNamespaces() {
		if err := kube.Namespaces.Get(ctx, "", n, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
			found = append(found, n)
		}
	}
	if len(found) == 0 {
		if ns == "" {
			ns = metav1.NamespaceDefault
		}
		return []string{ns}, "namespace " + ns, nil
	}
	return found, "nerve namespaces", nil
}

// allNamespaces is every namespace when the user may list rollouts cluster-wide, else the
// namespaces where it may.
func (o *DashboardOptions) allNamespaces(ctx context.Context, kube *Kube) ([]string, string, error) {
	if ok, err := mayListRollouts(ctx, kube, ""); err != nil || ok {
		return nil, "all namespaces", err
	}
	list := &corev1.NamespaceList{}
	if err := kube.Namespaces.List(ctx, "", metav1.ListOptions{}, list); err != nil {
		return nil, "", fmt.Errorf("you may not list rollouts in every namespace, nor list the namespaces (%w): use -n", err)
	}
	var out []string
	for _, n := range list.Items {
		if ok, err := mayListRollouts(ctx, kube, n.Name); err != nil {
			return nil, "", err
		} else if ok {
			out = append(out, n.Name)
		}
	}
	if len(out) == 0 {
		return nil, "", fmt.Errorf("you may list rollouts in no namespace")
	}
	return out, "namespaces " + strings.Join(out, ", "), nil
}

func mayListRollouts(ctx context.Context, kube *Kube, ns string) (bool, error) {
	r, err := kube.mayI(ctx, authv1.ResourceAttributes{Namespace: ns, Verb: "list", Group: v1alpha1.Group, Resource: v1alpha1.RolloutResource})
	if err != nil {
		return false, fmt.Errorf("access review list rollouts in %q: %w", ns, err)
	}
	return r.Status.Allowed, nil
}
