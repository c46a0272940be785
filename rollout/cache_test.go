package rollout

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

func TestCacheTransformDropsManagedFieldsOnly(t *testing.T) {
	mf := []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "web", ManagedFields: mf,
		Annotations: map[string]string{v1alpha1.RevisionAnnotation: "3"}}}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-abc", ManagedFields: mf,
		Labels: map[string]string{v1alpha1.DefaultRolloutUniqueLabelKey: "abc"}}}
	for _, obj := range []metav1.Object{ro, rs} {
		for range 2 { // idempotent
			out, err := cacheTransform(obj)
			if err != nil || out != obj {
				t.Fatalf("cacheTransform(%s) = %v, %v; want the same object", obj.GetName(), out, err)
			}
		}
		if obj.GetManagedFields() != nil {
			t.Errorf("%s: managedFields kept", obj.GetName())
		}
	}
	if ro.Annotations[v1alpha1.RevisionAnnotation] != "3" || rsHash(rs) != "abc" {
		t.Errorf("transform changed more than managedFields: %v %v", ro.Annotations, rs.Labels)
	}
	tomb := cache.DeletedFinalStateUnknown{Key: "ns/web", Obj: ro}
	if out, err := cacheTransform(tomb); err != nil || out != tomb {
		t.Errorf("tombstone: %v, %v", out, err)
	}
}
