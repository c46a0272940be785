package cli

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The exact merge patches Argo Rollouts' CLI sends, so the commands work against nerve's loop
// and Argo's controller alike.
const (
	patchAbort                       = `{"status":{"abort":true}}`
	patchRetry                       = `{"status":{"abort":false}}`
	patchPause                       = `{"spec":{"paused":true}}`
	patchUnpause                     = `{"spec":{"paused":false}}`
	patchSetStepIndex                = `{"status":{"currentStepIndex":%d}}`
	patchClearPauseConditions        = `{"status":{"pauseConditions":null}}`
	patchClearPauseAndControllerStep = `{"status":{"pauseConditions":null, "controllerPause":false, "currentStepIndex":%d}}`
	patchUnpauseAndClear             = `{"spec":{"paused":false},"status":{"pauseConditions":null}}`
	patchPromoteFull                 = `{"status":{"promoteFull":true}}`
	patchClearPauseWithStep          = `{"status":{"pauseConditions":null, "currentStepIndex":%d}}`
	patchUnpauseAndClearWithStep     = `{"spec":{"paused":false},"status":{"pauseConditions":null, "currentStepIndex":%d}}`
	patchUnpauseAndPromoteFull       = `{"spec":{"paused":false},"status":{"promoteFull":true}}`
	patchRestartAt                   = `{"spec":{"restartAt":%q}}`
)

// rolloutPatch is a status patch (sent to the status subresource), a spec patch and the unified
// patch used when the CRD has no status subresource (the status patch answered NotFound).
type rolloutPatch struct {
	spec, status, unified string
}

func (p rolloutPatch) empty() bool { return p.spec == "" && p.status == "" }

// apply sends p the way Argo's CLI does: status first (falling back to the unified patch on
// NotFound), then spec.
func (c *clients) apply(ctx context.Context, name string, p rolloutPatch) error {
	spec := p.spec
	if p.status != "" {
		_, err := c.rollouts().Patch(ctx, name, types.MergePatchType, []byte(p.status), metav1.PatchOptions{}, "status")
		if err != nil {
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("patch rollout %s status: %w", name, err)
			}
			spec = p.unified
		}
	}
	if spec != "" {
		if _, err := c.rollouts().Patch(ctx, name, types.MergePatchType, []byte(spec), metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("patch rollout %s: %w", name, err)
		}
	}
	return nil
}
