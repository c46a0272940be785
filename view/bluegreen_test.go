package view

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// TestBuildBlueGreen: a blueGreen Rollout's tree tags its ReplicaSets as Argo's CLI does
// (stable,active on the active stable one, preview on the previewed one, delay:… while a
// scale-down deadline runs), the header has no steps or weights, and image tags merge as Argo's.
func TestBuildBlueGreen(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ro := &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "fhir", UID: "ro"},
		Spec:       v1alpha1.RolloutSpec{Replicas: i32(2), Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{ActiveService: "a", PreviewService: "p"}}},
		Status: v1alpha1.RolloutStatus{StableRS: "h1", CurrentPodHash: "h2", Phase: v1alpha1.RolloutPhasePaused, Message: "BlueGreenPause",
			PauseConditions: []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonBlueGreenPause}},
			BlueGreen:       v1alpha1.BlueGreenStatus{ActiveSelector: "h1", PreviewSelector: "h2"}},
	}
	rs := func(hash, rev, image string, ann map[string]string) appsv1.ReplicaSet {
		a := map[string]string{v1alpha1.RevisionAnnotation: rev}
		for k, v := range ann {
			a[k] = v
		}
		return appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "fhir-" + hash, UID: types.UID("rs-" + hash), Labels: map[string]string{v1alpha1.DefaultRolloutUniqueLabelKey: hash}, Annotations: a,
				OwnerReferences: []metav1.OwnerReference{{UID: "ro", Controller: i2b(true)}}},
			Spec:   appsv1.ReplicaSetSpec{Replicas: i32(2), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Image: image}}}}},
			Status: appsv1.ReplicaSetStatus{Replicas: 2, AvailableReplicas: 2},
		}
	}
	rss := []appsv1.ReplicaSet{rs("h1", "1", "fhir:1", nil), rs("h2", "2", "fhir:2", nil)}
	v := Build(ro, rss, nil, nil, now)
	if v.Strategy != "BlueGreen" || v.Step != "" || v.SetWeight != "" || v.Status != "Paused" || v.Message != "BlueGreenPause" {
		t.Fatalf("header %+v", v)
	}
	tags := func(v Rollout) string {
		var out []string
		for _, r := range v.Revisions {
			for _, s := range r.ReplicaSets {
				out = append(out, s.Name+"="+Tags(s.Tags))
			}
		}
		return strings.Join(out, " ")
	}
	if got := tags(v); got != "fhir-h2=preview fhir-h1=stable,active" {
		t.Errorf("tree tags %q", got)
	}
	if len(v.Images) != 2 || Tags(v.Images[0].Tags) != "stable,active" || Tags(v.Images[1].Tags) != "preview" {
		t.Errorf("images %+v", v.Images)
	}
	// promoted: the old one waits for its scale-down deadline; same image on both merges sorted
	ro.Status.StableRS, ro.Status.PauseConditions = "h2", nil
	ro.Status.BlueGreen = v1alpha1.BlueGreenStatus{ActiveSelector: "h2", PreviewSelector: "h2"}
	rss = []appsv1.ReplicaSet{rs("h1", "1", "fhir:2", map[string]string{v1alpha1.ScaleDownDeadlineAnnotationKey: now.Add(25 * time.Second).Format(time.RFC3339)}), rs("h2", "2", "fhir:2", nil)}
	v = Build(ro, rss, nil, nil, now)
	if got := tags(v); got != "fhir-h2=stable,active fhir-h1=delay:25s" {
		t.Errorf("tree tags after promotion %q", got)
	}
	if len(v.Images) != 1 || Tags(v.Images[0].Tags) != "active,stable" {
		t.Errorf("merged image tags %+v", v.Images)
	}
	rss[0].Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey] = now.Add(-time.Second).Format(time.RFC3339)
	if got := tags(Build(ro, rss, nil, nil, now)); got != "fhir-h2=stable,active fhir-h1=delay:passed" {
		t.Errorf("tree tags past the deadline %q", got)
	}
}

func i2b(b bool) *bool { return &b }
