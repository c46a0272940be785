package rollout

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// PodTemplateHash computes the rollouts-pod-template-hash as Argo does: fnv32a over the JSON of
// the pod template plus the little-endian collision count, safe-encoded.
func PodTemplateHash(t *corev1.PodTemplateSpec, collisionCount *int32) (string, error) {
	h := fnv.New32a()
	b, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("hash pod template: %w", err)
	}
	_, _ = h.Write(b)
	if collisionCount != nil {
		cb := make([]byte, 8)
		binary.LittleEndian.PutUint32(cb, uint32(*collisionCount))
		_, _ = h.Write(cb)
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32())), nil
}

// StepHash computes status.currentStepHash as Argo does (fnv32a over the JSON of the steps).
func StepHash(ro *v1alpha1.Rollout) string {
	if ro.Spec.Strategy.BlueGreen != nil || ro.Spec.Strategy.Canary == nil {
		return ""
	}
	b, err := json.Marshal(ro.Spec.Strategy.Canary.Steps)
	if err != nil {
		return ""
	}
	h := fnv.New32a()
	_, _ = h.Write(b)
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}
