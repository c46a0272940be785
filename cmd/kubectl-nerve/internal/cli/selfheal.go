package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/gitops"
)

// selfHealGuard keeps live edits of a Rollout's spec (undo, set image) from fighting Argo CD:
// an edit of a Rollout whose Application self-heals is reverted within seconds.
type selfHealGuard struct {
	ArgoNamespace string
	Override      bool
}

func (g *selfHealGuard) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&g.ArgoNamespace, "argocd-namespace", "argocd", "Namespace of Argo CD's Applications")
	cmd.Flags().BoolVar(&g.Override, "ignore-self-heal", false, "Edit the live Rollout even though its Argo CD Application self-heals")
}

// check refuses (or, with the override, warns on w) when ro belongs to an Application with
// self-heal on. A Rollout no Application tracks, or an Application nerve cannot read, passes.
func (g *selfHealGuard) check(ctx context.Context, f *Factory, ro *unstructured.Unstructured, verb string, w io.Writer) error {
	owner := gitops.Owner(ro)
	if owner == "" {
		return nil
	}
	dyn, err := f.Dynamic()
	if err != nil {
		return err
	}
	app, err := gitops.Apps{Dynamic: dyn, Namespace: g.ArgoNamespace}.Get(ctx, owner)
	if err != nil || !app.SelfHeal() {
		return nil
	}
	msg := fmt.Sprintf("rollout %s belongs to Argo CD Application %s/%s with self-heal on: Argo CD reverts a live %s within seconds; change Git instead (kubectl nerve rollback %s reverts the promotion)",
		ro.GetName(), g.ArgoNamespace, owner, verb, ro.GetName())
	if g.Override {
		return printf(w, "warning: %s; --ignore-self-heal given, editing anyway\n", msg)
	}
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf("refused: %s (override: --ignore-self-heal)", msg)}
}
