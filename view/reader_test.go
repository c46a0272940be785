package view

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/view/viewtest"
)

const (
	ns   = viewtest.Namespace
	name = viewtest.RolloutName
)

// worldReader is a Reader over fakes of the paused canary's world.
func worldReader(t *testing.T, w viewtest.World) (Reader, viewtest.Fakes) {
	t.Helper()
	f := w.Fakes()
	return Reader{Dynamic: f.Dynamic, Kube: &Kube{ReplicaSets: f.ReplicaSets(), Pods: f.Pods()}, Gateway: f.GatewayClients(), Now: viewtest.Now}, f
}

func TestReaderSnapshotBuildsTheTree(t *testing.T) {
	r, _ := worldReader(t, viewtest.CanaryWorld(t))
	s, err := r.Snapshot(t.Context(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	if s.Raw.GetName() != name || s.Object.UID != viewtest.RolloutUID {
		t.Fatalf("objects: %s %s", s.Raw.GetName(), s.Object.UID)
	}
	v := s.View
	if v.Status != "Paused" || v.Step != "1/6" || v.SetWeight != "5" || v.ActualWeight != "5" || v.Desired != 4 {
		t.Errorf("header: %s %s %s %s %d", v.Status, v.Step, v.SetWeight, v.ActualWeight, v.Desired)
	}
	type rev struct {
		n          int
		rss, runs  []string
		pods, mets int
	}
	var got []rev
	for _, r := range v.Revisions {
		g := rev{n: r.Number}
		for _, rs := range r.ReplicaSets {
			g.rss = append(g.rss, rs.Name+" "+Tags(rs.Tags))
			g.pods += len(rs.Pods)
		}
		for _, ar := range r.AnalysisRuns {
			g.runs = append(g.runs, ar.Name+" "+ar.Status)
			g.mets += len(ar.Metrics)
		}
		got = append(got, g)
	}
	want := []rev{
		{n: 2, rss: []string{name + "-" + viewtest.CanaryHash + " canary"}, runs: []string{name + "-" + viewtest.CanaryHash + "-2-2 Running"}, pods: 1, mets: 2},
		{n: 1, rss: []string{name + "-" + viewtest.StableHash + " stable"}, pods: 4},
	}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(rev{})); d != "" {
		t.Errorf("tree (-want +got):\n%s", d)
	}
	only, err := r.Rollout(t.Context(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(v, only, cmp.AllowUnexported(ReplicaSet{}, AnalysisRun{})); d != "" {
		t.Errorf("Rollout differs from Snapshot.View:\n%s", d)
	}
}

func TestReaderListSummarises(t *testing.T) {
	w := viewtest.CanaryWorld(t)
	other := viewtest.PausedCanary()
	other.Name, other.Namespace, other.UID, other.Labels = "fhir", "clinical-records", "ro-uid-2", map[string]string{"team": "records"}
	other.Status = v1alpha1.RolloutStatus{}
	w.Dynamic = append(w.Dynamic, viewtest.RolloutObject(t, other))
	r, _ := worldReader(t, w)
	all, err := r.List(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range all.Items {
		got = append(got, it.Object.Namespace+"/"+it.Object.Name+" "+it.View.Status)
		if len(it.View.Revisions) != 0 || it.Raw.GetName() != it.Object.Name {
			t.Errorf("%s: a list item has a tree or the wrong raw object", it.Object.Name)
		}
	}
	if d := cmp.Diff([]string{"clinical-ingestion/mllp-listener Paused", "clinical-records/fhir Progressing"}, got); d != "" {
		t.Errorf("all namespaces (-want +got):\n%s", d)
	}
	if len(all.Raw.Items) != 2 {
		t.Errorf("raw list has %d items", len(all.Raw.Items))
	}
	one, err := r.List(t.Context(), ns, "")
	if err != nil || len(one.Items) != 1 || one.Items[0].Object.Name != name {
		t.Errorf("one namespace: %+v %v", one.Items, err)
	}
	sel, err := r.List(t.Context(), "", "team=records")
	if err != nil || len(sel.Items) != 1 || sel.Items[0].Object.Name != "fhir" {
		t.Errorf("selector: %+v %v", sel.Items, err)
	}
}

func TestReaderOwnedObjectsOnly(t *testing.T) {
	w := viewtest.CanaryWorld(t)
	strayRS := viewtest.ReplicaSet("0ther", viewtest.ImageStable, 9, 1, time.Hour)
	strayRS.OwnerReferences = nil
	strayRun := viewtest.AnalysisRun()
	strayRun.Name, strayRun.OwnerReferences = "stray", nil
	w.Kube = append(w.Kube, strayRS)
	w.Dynamic = append(w.Dynamic, viewtest.ToUnstructured(t, strayRun, v1alpha1.GroupVersion().String(), "AnalysisRun"))
	r, _ := worldReader(t, w)
	runs, raw, err := r.AnalysisRuns(t.Context(), ns, viewtest.RolloutUID)
	if err != nil || len(runs) != 1 || len(raw) != 1 || runs[0].Name != raw[0].GetName() || runs[0].Name == "stray" {
		t.Errorf("runs %v %v", len(runs), err)
	}
	rss, err := r.ReplicaSets(t.Context(), viewtest.PausedCanary())
	if err != nil || len(rss) != 2 {
		t.Fatalf("replicasets %d %v", len(rss), err)
	}
	for _, rs := range rss {
		if rs.Name == strayRS.Name {
			t.Error("a ReplicaSet the rollout does not own")
		}
	}
}

func TestReaderErrors(t *testing.T) {
	r, f := worldReader(t, viewtest.CanaryWorld(t))
	if _, _, err := r.Get(t.Context(), ns, "missing"); !apierrors.IsNotFound(err) {
		t.Errorf("missing rollout: %v", err)
	}
	// No AnalysisRun CRD: no runs, no error.
	f.Dynamic.PrependReactor("list", "analysisruns", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: v1alpha1.GroupVersion().Group, Resource: "analysisruns"}, "")
	})
	s, err := r.Snapshot(t.Context(), ns, name)
	if err != nil || len(s.View.Revisions) != 2 || len(s.View.Revisions[0].AnalysisRuns) != 0 {
		t.Errorf("without the AnalysisRun CRD: %v", err)
	}
	f.Kube.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("etcd is down")
	})
	if _, err := r.Snapshot(t.Context(), ns, name); err == nil || !strings.Contains(err.Error(), "list pods: etcd is down") {
		t.Errorf("pods failing: %v", err)
	}
	noKube := Reader{Dynamic: f.Dynamic}
	if _, err := noKube.Rollout(t.Context(), ns, name); err == nil || !strings.Contains(err.Error(), "no Kubernetes client") {
		t.Errorf("no kube client: %v", err)
	}
	if _, err := (Reader{}).List(t.Context(), ns, ""); err == nil || !strings.Contains(err.Error(), "no dynamic client") {
		t.Errorf("no dynamic client: %v", err)
	}
}
