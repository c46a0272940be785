package actions

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// The exact merge patches Argo Rollouts' CLI sends, so the actions work against nerve's loop
// and Argo's controller alike.
const (
	PatchAbort                       = `{"status":{"abort":true}}`
	PatchRetry                       = `{"status":{"abort":false}}`
	PatchPause                       = `{"spec":{"paused":true}}`
	PatchUnpause                     = `{"spec":{"paused":false}}`
	PatchSetStepIndex                = `{"status":{"currentStepIndex":%d}}`
	PatchClearPauseConditions        = `{"status":{"pauseConditions":null}}`
	PatchClearPauseAndControllerStep = `{"status":{"pauseConditions":null, "controllerPause":false, "currentStepIndex":%d}}`
	PatchUnpauseAndClear             = `{"spec":{"paused":false},"status":{"pauseConditions":null}}`
	PatchPromoteFull                 = `{"status":{"promoteFull":true}}`
	PatchClearPauseWithStep          = `{"status":{"pauseConditions":null, "currentStepIndex":%d}}`
	PatchUnpauseAndClearWithStep     = `{"spec":{"paused":false},"status":{"pauseConditions":null, "currentStepIndex":%d}}`
	PatchUnpauseAndPromoteFull       = `{"spec":{"paused":false},"status":{"promoteFull":true}}`
	PatchRestartAt                   = `{"spec":{"restartAt":%q}}`
)

// Patch is a status patch (sent to the status subresource), a spec patch and the unified patch
// used when the CRD has no status subresource (the status patch answered NotFound).
type Patch struct {
	Spec, Status, Unified string
}

// Empty reports whether p changes nothing.
func (p Patch) Empty() bool { return p.Spec == "" && p.Status == "" }

// Abort is status.abort=true: traffic and replicas go back to stable.
func Abort() Patch { return Patch{Status: PatchAbort, Unified: PatchAbort} }

// Retry is status.abort=false: the canary starts again from the first step.
func Retry() Patch { return Patch{Status: PatchRetry, Unified: PatchRetry} }

// Pause is spec.paused=true.
func Pause() Patch { return Patch{Spec: PatchPause} }

// Resume is spec.paused=false; it does not skip a pause step.
func Resume() Patch { return Patch{Spec: PatchUnpause} }

// Restart sets spec.restartAt to at (UTC, RFC 3339) and returns the formatted time too.
func Restart(at time.Time) (Patch, string) {
	s := at.UTC().Format(time.RFC3339)
	return Patch{Spec: fmt.Sprintf(PatchRestartAt, s)}, s
}

// Apply sends p to the named rollout of ri the way Argo's CLI does: status first (falling back
// to the unified patch on NotFound), then spec.
func Apply(ctx context.Context, ri dynamic.ResourceInterface, name string, p Patch) error {
	spec := p.Spec
	if p.Status != "" {
		_, err := ri.Patch(ctx, name, types.MergePatchType, []byte(p.Status), metav1.PatchOptions{}, "status")
		if err != nil {
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("patch rollout %s status: %w", name, err)
			}
			spec = p.Unified
		}
	}
	if spec != "" {
		if _, err := ri.Patch(ctx, name, types.MergePatchType, []byte(spec), metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("patch rollout %s: %w", name, err)
		}
	}
	return nil
}
