package gitops

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(t *testing.T, js string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCompareMatchesListsByName(t *testing.T) {
	live := obj(t, `{"metadata":{"resourceVersion":"9"},"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"b","image":"x:1"},{"name":"a","image":"y:1"}]}}},"status":{"phase":"Healthy"}}`)
	git := obj(t, `{"metadata":{"resourceVersion":"10"},"spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"a","image":"y:2"},{"name":"b","image":"x:1"}]}}}}`)
	var diffs []fieldDiff
	compare(nil, live, git, true, true, &diffs)
	var got []string
	for _, d := range diffs {
		got = append(got, display(d.steps)+"="+pointer(d.steps))
	}
	want := ".spec.replicas=/spec/replicas .spec.template.spec.containers[name=a].image=/spec/template/spec/containers/1/image"
	if strings.Join(got, " ") != want {
		t.Fatalf("diffs %v, want %s", got, want)
	}
}

func TestOwnsWalksFieldsV1(t *testing.T) {
	live := obj(t, `{"spec":{"replicas":3,"ports":[{"containerPort":2575,"protocol":"TCP","name":"mllp"}]}}`)
	fields := obj(t, `{"f:spec":{"f:replicas":{},"f:ports":{"k:{\"containerPort\":2575,\"protocol\":\"TCP\"}":{".":{},"f:name":{}}}}}`)
	cases := []struct {
		path []step
		want bool
	}{
		{[]step{{key: "spec"}, {key: "replicas"}}, true},
		{[]step{{key: "spec"}, {key: "ports"}, {list: true, index: 0}, {key: "name"}}, true},
		{[]step{{key: "spec"}, {key: "ports"}, {list: true, index: 0}, {key: "protocol"}}, false},
		{[]step{{key: "spec"}, {key: "paused"}}, false},
	}
	for _, c := range cases {
		if got := owns(fields, live, c.path); got != c.want {
			t.Errorf("owns %s = %v, want %v", display(c.path), got, c.want)
		}
	}
}

func managed(t *testing.T, manager string, op metav1.ManagedFieldsOperationType, fields string) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
}

func TestClassify(t *testing.T) {
	live := &unstructured.Unstructured{Object: obj(t, `{"apiVersion":"mllp.nerve.io/v1alpha1","kind":"MLLPRoute","metadata":{"name":"r"},"spec":{"weight":25,"port":"x","stickyKey":"pid3"},"data":{"k":"czM="}}`)}
	live.SetManagedFields([]metav1.ManagedFieldsEntry{
		managed(t, "argocd-controller", metav1.ManagedFieldsOperationApply, `{"f:spec":{"f:port":{}}}`),
		managed(t, "nerve-mllp-router", metav1.ManagedFieldsOperationUpdate, `{"f:spec":{"f:weight":{}}}`),
		managed(t, "kubectl-edit", metav1.ManagedFieldsOperationUpdate, `{"f:spec":{"f:stickyKey":{}}}`),
	})
	d := Differ{Ignore: []IgnoreDifference{{Group: "mllp.nerve.io", Kind: "MLLPRoute", JSONPointers: []string{"/spec/port"}}}}
	for field, want := range map[string]string{"weight": ClassRouter, "stickyKey": ClassManual, "port": ClassIgnored} {
		f := d.classify(live, fieldDiff{steps: []step{{key: "spec"}, {key: field}}, liveHas: true, gitHas: true}, false)
		if f.Class != want {
			t.Errorf("%s: class %s (owner %s), want %s", field, f.Class, f.Owner, want)
		}
	}
	d.Ignore = nil
	if f := d.classify(live, fieldDiff{steps: []step{{key: "spec"}, {key: "port"}}, liveHas: true}, false); f.Class != ClassPending {
		t.Errorf("applier-owned field: %s", f.Class)
	}
	f := d.classify(live, fieldDiff{steps: []step{{key: "data"}, {key: "k"}}, live: "czM=", git: "czQ=", liveHas: true, gitHas: true}, true)
	if f.Live != "***" || f.Git != "***" {
		t.Errorf("secret not masked: %v %v", f.Live, f.Git)
	}
}

func TestSetImagesKeepsCommentsAndQuotesTags(t *testing.T) {
	dir := t.TempDir()
	in := "# prod overlay\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../base]\nimages:\n  - name: reg/app\n    newTag: \"1.0\"\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SetImages(dir, []string{"reg/app:1.10", "reg/side@sha256:abc"}); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# prod overlay", `newTag: "1.10"`, "name: reg/side", "digest: sha256:abc"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), `"1.0"`) {
		t.Errorf("old tag kept:\n%s", out)
	}
}

func TestParseImageAndOwner(t *testing.T) {
	if r := ParseImage("localhost:5000/a/b:1.2@sha256:ff"); r.Name != "localhost:5000/a/b" || r.Tag != "1.2" || r.Digest != "sha256:ff" {
		t.Errorf("%+v", r)
	}
	if r := ParseImage("localhost:5000/a/b"); r.Name != "localhost:5000/a/b" || r.Tag != "" {
		t.Errorf("%+v", r)
	}
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAnnotations(map[string]string{AnnotationTrackingID: "argocd_clinical-ingestion-prod:argoproj.io/Rollout:clinical-ingestion/mllp-listener"})
	if got := Owner(u); got != "clinical-ingestion-prod" {
		t.Errorf("owner %q", got)
	}
}

func TestRenderShippedOverlay(t *testing.T) {
	objs, err := Render("../../../../manifests/environments/prod/clinical-ingestion")
	if err != nil {
		t.Fatal(err)
	}
	if imgs := Images(objs); len(imgs) != 1 || !strings.HasPrefix(imgs[0], "registry.nerve.local/clinical/mllp-listener:") {
		t.Fatalf("images %v", imgs)
	}
}
