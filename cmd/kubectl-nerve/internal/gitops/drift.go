package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// Classes of a differing field, by who owns the live value.
const (
	ClassManual  = "manual"  // another field manager changed it (kubectl edit, patch, a script)
	ClassPending = "pending" // the GitOps applier owns it: Git changed and is not synced yet
	ClassMissing = "missing" // the object is in Git but not in the cluster
	ClassRouter  = "router"  // a traffic router's or the rollout controller's managed weights
	ClassIgnored = "ignored" // the Application's ignoreDifferences cover it
	ClassDefault = "default" // no manager owns it: server-side defaults
)

// Counted reports whether a class is drift (exit code 1) rather than expected divergence.
func Counted(class string) bool {
	return class == ClassManual || class == ClassPending || class == ClassMissing
}

// DefaultRouterManagers are the field managers whose writes are a canary's managed state:
// nerve's routers and loop, Argo Rollouts' controller and the labs Gateway API plugin.
func DefaultRouterManagers() []string {
	return []string{"nerve-mllp-router", "nerve-gatewayapi", "nerve-controller", "rollouts-controller", "argo-rollouts", "gatewayapi-plugin"}
}

// DefaultApplier is the field manager of Argo CD's server-side apply.
const DefaultApplier = "argocd-controller"

// FieldDrift is one differing field.
type FieldDrift struct {
	Path    string `json:"path"`
	Pointer string `json:"jsonPointer"`
	Live    any    `json:"live,omitempty"`
	Git     any    `json:"git,omitempty"`
	Class   string `json:"class"`
	Owner   string `json:"owner,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// ObjectDrift is the drift of one object.
type ObjectDrift struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Namespace  string       `json:"namespace,omitempty"`
	Name       string       `json:"name"`
	Fields     []FieldDrift `json:"fields"`
}

// DriftReport is the drift of a Git directory against the cluster.
type DriftReport struct {
	App        string         `json:"app,omitempty"`
	Env        string         `json:"environment,omitempty"`
	Path       string         `json:"path"`
	Objects    []ObjectDrift  `json:"objects"`
	Compared   int            `json:"compared"`
	Drifted    int            `json:"drifted"`
	ByClass    map[string]int `json:"byClass"`
	NotCounted int            `json:"notCounted"`
}

// Differ compares rendered objects with the cluster: each object is server-side applied with
// dry run, forced, as the GitOps applier, and the result (what a sync would leave) is compared
// with the live object, field by field.
type Differ struct {
	Dynamic   dynamic.Interface
	Mapper    meta.RESTMapper
	Namespace string
	// Applier is the field manager of the GitOps applier (argocd-controller).
	Applier string
	// Routers are the field managers whose writes are managed canary state.
	Routers []string
	// Ignore are the Application's ignoreDifferences.
	Ignore []IgnoreDifference
}

// Diff compares objs with the cluster.
func (d Differ) Diff(ctx context.Context, objs []*unstructured.Unstructured) (DriftReport, error) {
	rep := DriftReport{ByClass: map[string]int{}}
	for _, obj := range objs {
		od, err := d.object(ctx, obj)
		if err != nil {
			return rep, err
		}
		rep.Compared++
		if len(od.Fields) > 0 {
			rep.Objects = append(rep.Objects, od)
		}
		for _, f := range od.Fields {
			rep.ByClass[f.Class]++
			if Counted(f.Class) {
				rep.Drifted++
			} else {
				rep.NotCounted++
			}
		}
	}
	return rep, nil
}

func (d Differ) resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := d.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		obj.SetNamespace("")
		return d.Dynamic.Resource(m.Resource), nil
	}
	if obj.GetNamespace() == "" {
		obj.SetNamespace(d.Namespace)
	}
	return d.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
}

func (d Differ) object(ctx context.Context, obj *unstructured.Unstructured) (ObjectDrift, error) {
	obj = obj.DeepCopy()
	ri, err := d.resource(obj)
	if err != nil {
		return ObjectDrift{}, err
	}
	od := ObjectDrift{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
	live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		od.Fields = []FieldDrift{{Path: "(object)", Pointer: "", Class: ClassMissing, Reason: "in Git, not in the cluster"}}
		return od, nil
	}
	if err != nil {
		return od, fmt.Errorf("get %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	keepTracking(obj, live)
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return od, err
	}
	force := true
	desired, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body,
		metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: d.applier(), Force: &force})
	if err != nil {
		return od, fmt.Errorf("server-side apply (dry run) %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	var diffs []fieldDiff
	compare(nil, live.Object, desired.Object, true, true, &diffs)
	secret := obj.GetKind() == "Secret" && obj.GroupVersionKind().Group == ""
	for _, fd := range diffs {
		od.Fields = append(od.Fields, d.classify(live, fd, secret))
	}
	return od, nil
}

func (d Differ) applier() string {
	if d.Applier == "" {
		return DefaultApplier
	}
	return d.Applier
}

// keepTracking copies Argo CD's tracking metadata from live into the applied object, as Argo
// CD adds it when it syncs (else the dry run would remove it and report it).
func keepTracking(obj, live *unstructured.Unstructured) {
	if id, ok := live.GetAnnotations()[AnnotationTrackingID]; ok {
		a := obj.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[AnnotationTrackingID] = id
		obj.SetAnnotations(a)
	}
	if v, ok := live.GetLabels()[LabelInstance]; ok {
		l := obj.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l[LabelInstance] = v
		obj.SetLabels(l)
	}
}

// classify names who owns the live value of a differing field.
func (d Differ) classify(live *unstructured.Unstructured, fd fieldDiff, secret bool) FieldDrift {
	f := FieldDrift{Path: display(fd.steps), Pointer: pointer(fd.steps), Live: fd.live, Git: fd.git}
	if secret && len(fd.steps) > 0 && (fd.steps[0].key == "data" || fd.steps[0].key == "stringData") {
		f.Live, f.Git = mask(fd.live), mask(fd.git)
	}
	owners := ownersOf(live, fd)
	f.Owner = strings.Join(owners, ",")
	switch {
	case slices.ContainsFunc(owners, d.isRouter):
		f.Class, f.Reason = ClassRouter, "managed canary state"
	case d.ignored(live, f.Pointer, owners):
		f.Class, f.Reason = ClassIgnored, "the Application's ignoreDifferences"
	case len(owners) == 0 && !fd.liveHas:
		f.Class, f.Reason, f.Owner = d.removedBy(live)
	case len(owners) == 0:
		f.Class, f.Reason = ClassDefault, "owned by no field manager (server default)"
	case slices.Contains(owners, d.applier()) && len(owners) == 1:
		f.Class, f.Reason = ClassPending, "Git changed since the last sync"
	default:
		f.Class, f.Reason = ClassManual, "changed outside Git"
	}
	return f
}

// removedBy classes a field Git declares that the live object lacks: removed by a manager
// that wrote after the applier (manual), else not synced yet (pending).
func (d Differ) removedBy(live *unstructured.Unstructured) (string, string, string) {
	var applied metav1.Time
	for _, m := range live.GetManagedFields() {
		if m.Manager == d.applier() && m.Time != nil && m.Time.After(applied.Time) {
			applied = *m.Time
		}
	}
	for _, m := range live.GetManagedFields() {
		if m.Manager == d.applier() || d.isRouter(m.Manager) || m.Operation != metav1.ManagedFieldsOperationUpdate || m.Time == nil {
			continue
		}
		if !m.Time.Before(&applied) {
			return ClassManual, "removed outside Git", m.Manager
		}
	}
	return ClassPending, "Git adds it; not synced yet", ""
}

func (d Differ) isRouter(manager string) bool {
	routers := d.Routers
	if routers == nil {
		routers = DefaultRouterManagers()
	}
	for _, r := range routers {
		if manager == r || strings.HasPrefix(manager, r) {
			return true
		}
	}
	return false
}

// ignored applies the Application's ignoreDifferences (jsonPointers and managedFieldsManagers;
// jqPathExpressions are not evaluated).
func (d Differ) ignored(live *unstructured.Unstructured, ptr string, owners []string) bool {
	gvk := live.GroupVersionKind()
	for _, ig := range d.Ignore {
		if ig.Kind != gvk.Kind || ig.Group != gvk.Group || (ig.Name != "" && ig.Name != live.GetName()) ||
			(ig.Namespace != "" && ig.Namespace != live.GetNamespace()) {
			continue
		}
		for _, p := range ig.JSONPointers {
			if ptr == p || strings.HasPrefix(ptr, strings.TrimSuffix(p, "/")+"/") {
				return true
			}
		}
		for _, m := range ig.ManagedFieldsManagers {
			if slices.Contains(owners, m) {
				return true
			}
		}
	}
	return false
}

// ownersOf returns the field managers owning the live value at fd's path.
func ownersOf(live *unstructured.Unstructured, fd fieldDiff) []string {
	var out []string
	for _, m := range live.GetManagedFields() {
		if m.FieldsV1 == nil || m.Subresource != "" {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(m.FieldsV1.Raw, &fields) != nil {
			continue
		}
		if owns(fields, live.Object, fd.steps) && !slices.Contains(out, m.Manager) {
			out = append(out, m.Manager)
		}
	}
	return out
}

// mask hides a Secret value: the report says that it differs, never what it is (not even a
// hash, which would let a short secret be guessed).
func mask(v any) any {
	if v == nil {
		return nil
	}
	if m, ok := v.(map[string]any); ok {
		out := map[string]any{}
		for k, x := range m {
			out[k] = mask(x)
		}
		return out
	}
	return "***"
}
