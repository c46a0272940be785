package rollout

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

type metav1OwnerRef = metav1.OwnerReference

// ownerObject is what event handlers need of an object.
type ownerObject interface {
	GetNamespace() string
	GetOwnerReferences() []metav1.OwnerReference
}

func everything() labels.Selector { return labels.Everything() }

// secretValue reads a key of a Secret for valueFrom.secretKeyRef arguments.
func (c *Controller) secretValue(ctx context.Context, ns, name, key string) (string, error) {
	s, err := c.api.GetSecret(ctx, ns, name)
	if err != nil {
		return "", err
	}
	v, ok := s.Data[key]
	if !ok {
		return "", fmt.Errorf("key %q not found", key)
	}
	return string(v), nil
}
