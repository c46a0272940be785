package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Labels and annotations nerve and Argo CD put on Applications and the objects they deploy.
const (
	LabelApp         = "nerve.io/app"
	LabelEnvironment = "nerve.io/environment"
	// AnnotationTrackingID is Argo CD's annotation tracking (the default since v3):
	// "<app>:<group>/<kind>:<namespace>/<name>".
	AnnotationTrackingID = "argocd.argoproj.io/tracking-id"
	// LabelInstance is Argo CD's label tracking (the default before v3).
	LabelInstance = "app.kubernetes.io/instance"
)

// ApplicationGVR is argoproj.io/v1alpha1 applications.
var ApplicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// Application is the part of an Argo CD Application nerve reads.
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              AppSpec   `json:"spec"`
	Status            AppStatus `json:"status"`
}

// AppSpec is the part of an Application's spec nerve reads.
type AppSpec struct {
	Project           string             `json:"project"`
	Source            *AppSource         `json:"source,omitempty"`
	Sources           []AppSource        `json:"sources,omitempty"`
	Destination       AppDestination     `json:"destination"`
	SyncPolicy        *SyncPolicy        `json:"syncPolicy,omitempty"`
	IgnoreDifferences []IgnoreDifference `json:"ignoreDifferences,omitempty"`
}

// AppSource is one Git source.
type AppSource struct {
	RepoURL        string `json:"repoURL"`
	Path           string `json:"path"`
	TargetRevision string `json:"targetRevision"`
}

// AppDestination is where an Application deploys.
type AppDestination struct {
	Server    string `json:"server,omitempty"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// SyncPolicy is the Application's sync policy.
type SyncPolicy struct {
	Automated   *Automated `json:"automated,omitempty"`
	SyncOptions []string   `json:"syncOptions,omitempty"`
}

// Automated is the auto-sync policy.
type Automated struct {
	Prune    bool  `json:"prune,omitempty"`
	SelfHeal bool  `json:"selfHeal,omitempty"`
	Enabled  *bool `json:"enabled,omitempty"`
}

// IgnoreDifference is one entry of spec.ignoreDifferences.
type IgnoreDifference struct {
	Group                 string   `json:"group,omitempty"`
	Kind                  string   `json:"kind"`
	Name                  string   `json:"name,omitempty"`
	Namespace             string   `json:"namespace,omitempty"`
	JSONPointers          []string `json:"jsonPointers,omitempty"`
	JQPathExpressions     []string `json:"jqPathExpressions,omitempty"`
	ManagedFieldsManagers []string `json:"managedFieldsManagers,omitempty"`
}

// AppStatus is the part of an Application's status nerve reads.
type AppStatus struct {
	Sync         SyncStatus        `json:"sync"`
	Health       HealthStatus      `json:"health"`
	ReconciledAt *metav1.Time      `json:"reconciledAt,omitempty"`
	Resources    []ResourceStatus  `json:"resources,omitempty"`
	Summary      map[string]any    `json:"summary,omitempty"`
	Conditions   []map[string]any  `json:"conditions,omitempty"`
	Operation    *OperationStateIn `json:"operationState,omitempty"`
}

// OperationStateIn is the last sync operation's phase and message.
type OperationStateIn struct {
	Phase   string `json:"phase,omitempty"`
	Message string `json:"message,omitempty"`
}

// SyncStatus is status.sync.
type SyncStatus struct {
	Status   string `json:"status,omitempty"`
	Revision string `json:"revision,omitempty"`
}

// HealthStatus is a health status and message.
type HealthStatus struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// ResourceStatus is one entry of status.resources.
type ResourceStatus struct {
	Group     string        `json:"group,omitempty"`
	Version   string        `json:"version,omitempty"`
	Kind      string        `json:"kind"`
	Namespace string        `json:"namespace,omitempty"`
	Name      string        `json:"name"`
	Status    string        `json:"status,omitempty"`
	Health    *HealthStatus `json:"health,omitempty"`
}

// SelfHeal reports whether Argo CD reverts live edits of the Application's objects.
func (a *Application) SelfHeal() bool {
	p := a.Spec.SyncPolicy
	if p == nil || p.Automated == nil {
		return false
	}
	if p.Automated.Enabled != nil && !*p.Automated.Enabled {
		return false
	}
	return p.Automated.SelfHeal
}

// Path is the Git path of the Application's (first) source.
func (a *Application) Path() string {
	if a.Spec.Source != nil {
		return a.Spec.Source.Path
	}
	if len(a.Spec.Sources) > 0 {
		return a.Spec.Sources[0].Path
	}
	return ""
}

// AppName is the nerve.io/app label, else the name without its -<env> suffix.
func (a *Application) AppName() string {
	if v := a.Labels[LabelApp]; v != "" {
		return v
	}
	return strings.TrimSuffix(a.Name, "-"+a.Environment())
}

// Environment is the nerve.io/environment label.
func (a *Application) Environment() string { return a.Labels[LabelEnvironment] }

// ApplicationFrom converts an unstructured Application.
func ApplicationFrom(u *unstructured.Unstructured) (*Application, error) {
	b, err := json.Marshal(u.Object)
	if err != nil {
		return nil, err
	}
	a := &Application{}
	if err := json.Unmarshal(b, a); err != nil {
		return nil, fmt.Errorf("application %s: %w", u.GetName(), err)
	}
	return a, nil
}

// Apps reads Applications.
type Apps struct {
	Dynamic dynamic.Interface
	// Namespace is where the Applications live (Argo CD's namespace, usually argocd).
	Namespace string
}

// List lists the Applications matching selector.
func (r Apps) List(ctx context.Context, selector string) ([]*Application, error) {
	list, err := r.Dynamic.Resource(ApplicationGVR).Namespace(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list Argo CD applications in %q: %w", r.Namespace, err)
	}
	out := make([]*Application, 0, len(list.Items))
	for i := range list.Items {
		a, err := ApplicationFrom(&list.Items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Get reads one Application by name.
func (r Apps) Get(ctx context.Context, name string) (*Application, error) {
	u, err := r.Dynamic.Resource(ApplicationGVR).Namespace(r.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return ApplicationFrom(u)
}

// Find returns the Application of app in env: the one labelled nerve.io/app and
// nerve.io/environment, else the one named <app>-<env>, else (env empty) the one named app.
func (r Apps) Find(ctx context.Context, app, env string) (*Application, error) {
	if env == "" {
		return r.Get(ctx, app)
	}
	list, err := r.List(ctx, LabelApp+"="+app+","+LabelEnvironment+"="+env)
	if err != nil {
		return nil, err
	}
	if len(list) == 1 {
		return list[0], nil
	}
	if len(list) > 1 {
		return nil, fmt.Errorf("%d Applications are labelled %s=%s,%s=%s", len(list), LabelApp, app, LabelEnvironment, env)
	}
	a, err := r.Get(ctx, app+"-"+env)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("no Argo CD Application for %s in environment %s (namespace %s): want labels %s=%s,%s=%s or the name %s-%s",
			app, env, r.Namespace, LabelApp, app, LabelEnvironment, env, app, env)
	}
	return a, err
}

// Owner returns the name of the Application tracking obj (annotation or label tracking), or "".
func Owner(obj metav1.Object) string {
	if id := obj.GetAnnotations()[AnnotationTrackingID]; id != "" {
		name, _, _ := strings.Cut(id, ":")
		// apps in any namespace: "<namespace>_<name>"
		if _, n, ok := strings.Cut(name, "_"); ok {
			return n
		}
		return name
	}
	return obj.GetLabels()[LabelInstance]
}
