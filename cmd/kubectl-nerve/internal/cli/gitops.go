package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/gitops"
	"github.com/nerve-rollouts/nerve/view"
)

// gitopsFlags are the flags of the GitOps commands: where Argo CD keeps its Applications and
// where the user's working copy of the Git repository is.
type gitopsFlags struct {
	ArgoNamespace string
	Repo          string
}

func (g *gitopsFlags) AddFlags(cmd *cobra.Command, repo bool) {
	cmd.Flags().StringVar(&g.ArgoNamespace, "argocd-namespace", "argocd", "Namespace of Argo CD's Applications")
	if repo {
		cmd.Flags().StringVar(&g.Repo, "repo", ".", "Git working copy of the repository the Applications deploy")
	}
}

func (g *gitopsFlags) apps(f *Factory) (gitops.Apps, error) {
	dyn, err := f.Dynamic()
	return gitops.Apps{Dynamic: dyn, Namespace: g.ArgoNamespace}, err
}

// envTarget is one app in one environment: its Application, the Git directory it deploys, and
// a reader of the cluster it deploys to.
type envTarget struct {
	App  *gitops.Application
	Dir  string // absolute
	Rel  string // repository-relative
	NS   string
	Read view.Reader
	Dyn  dynamic.Interface
}

// resolve finds the Application of app in env and the clients of its destination.
func (g *gitopsFlags) resolve(ctx context.Context, f *Factory, repo *gitops.Git, app, env string) (*envTarget, error) {
	apps, err := g.apps(f)
	if err != nil {
		return nil, err
	}
	a, err := apps.Find(ctx, app, env)
	if err != nil {
		return nil, err
	}
	path := a.Path()
	if path == "" {
		return nil, fmt.Errorf("application %s has no source path", a.Name)
	}
	dyn, kube, err := destinationClients(f, a.Spec.Destination)
	if err != nil {
		return nil, fmt.Errorf("application %s: %w", a.Name, err)
	}
	t := &envTarget{App: a, Rel: path, NS: a.Spec.Destination.Namespace, Dyn: dyn,
		Read: view.Reader{Dynamic: dyn, Kube: kube.view(), Now: f.Now}}
	if repo != nil {
		t.Dir = repo.Abs(path)
	}
	return t, nil
}

// destinationClients returns the clients of an Application's destination cluster: the current
// context for the in-cluster destination, else the kubeconfig context named like the
// destination's name, else the context whose cluster has the destination's server.
func destinationClients(f *Factory, d gitops.AppDestination) (dynamic.Interface, *Kube, error) {
	if d.Name == "in-cluster" || (d.Name == "" && (d.Server == "" || strings.HasPrefix(d.Server, "https://kubernetes.default.svc"))) {
		return currentClients(f)
	}
	raw, err := f.Getter.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, nil, err
	}
	ctxName := ""
	if _, ok := raw.Contexts[d.Name]; ok && d.Name != "" {
		ctxName = d.Name
	}
	for name, c := range raw.Contexts {
		if ctxName == "" && d.Server != "" && raw.Clusters[c.Cluster] != nil && raw.Clusters[c.Cluster].Server == d.Server {
			ctxName = name
		}
	}
	if ctxName == "" {
		return nil, nil, fmt.Errorf("no kubeconfig context for destination %s%s (name a context like the Argo CD cluster)", d.Name, d.Server)
	}
	if ctxName == raw.CurrentContext {
		return currentClients(f)
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(raw, ctxName, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	kube, err := newKube(cfg)
	return dyn, kube, err
}

func currentClients(f *Factory) (dynamic.Interface, *Kube, error) {
	dyn, err := f.Dynamic()
	if err != nil {
		return nil, nil, err
	}
	kube, err := f.Kube()
	return dyn, kube, err
}

func shortCommit(commit string) string {
	if len(commit) > 8 {
		return commit[:8]
	}
	return commit
}
