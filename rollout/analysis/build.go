package analysis

import (
	"fmt"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// TemplateGetter reads (Cluster)AnalysisTemplates, normally from informer listers.
type TemplateGetter interface {
	AnalysisTemplate(namespace, name string) (*v1alpha1.AnalysisTemplate, error)
	ClusterAnalysisTemplate(name string) (*v1alpha1.ClusterAnalysisTemplate, error)
}

// BuildRunSpec merges the referenced templates (following nested spec.templates) into one run
// spec and binds the given arguments to the templates' declared ones. Every declared argument
// must end with a value (or valueFrom.secretKeyRef), every {{args.x}} used by a metric must be
// declared, and metric names must be unique.
func BuildRunSpec(get TemplateGetter, namespace string, refs []v1alpha1.AnalysisTemplateRef, given []v1alpha1.Argument) (v1alpha1.AnalysisRunSpec, error) {
	var spec v1alpha1.AnalysisRunSpec
	var declared []v1alpha1.Argument
	if err := collect(get, namespace, refs, &spec, &declared, map[string]bool{}); err != nil {
		return spec, err
	}
	args, err := bindArgs(declared, given)
	if err != nil {
		return spec, err
	}
	spec.Args = args
	return spec, checkMetrics(spec)
}

func collect(get TemplateGetter, ns string, refs []v1alpha1.AnalysisTemplateRef, spec *v1alpha1.AnalysisRunSpec, declared *[]v1alpha1.Argument, seen map[string]bool) error {
	for _, ref := range refs {
		key := fmt.Sprintf("%v/%s", ref.ClusterScope != nil && *ref.ClusterScope, ref.TemplateName)
		if seen[key] {
			continue
		}
		seen[key] = true
		t, err := templateSpec(get, ns, ref)
		if err != nil {
			return err
		}
		spec.Metrics = append(spec.Metrics, t.Metrics...)
		spec.DryRun = append(spec.DryRun, t.DryRun...)
		spec.MeasurementRetention = append(spec.MeasurementRetention, t.MeasurementRetention...)
		*declared = mergeDeclared(*declared, t.Args)
		if err := collect(get, ns, t.Templates, spec, declared, seen); err != nil {
			return err
		}
	}
	return nil
}

func templateSpec(get TemplateGetter, ns string, ref v1alpha1.AnalysisTemplateRef) (*v1alpha1.AnalysisTemplateSpec, error) {
	if ref.TemplateName == "" {
		return nil, fmt.Errorf("analysis template reference without templateName")
	}
	if ref.ClusterScope != nil && *ref.ClusterScope {
		t, err := get.ClusterAnalysisTemplate(ref.TemplateName)
		if err != nil {
			return nil, fmt.Errorf("ClusterAnalysisTemplate %q: %w", ref.TemplateName, err)
		}
		return &t.Spec, nil
	}
	t, err := get.AnalysisTemplate(ns, ref.TemplateName)
	if err != nil {
		return nil, fmt.Errorf("AnalysisTemplate %q: %w", ref.TemplateName, err)
	}
	return &t.Spec, nil
}

// mergeDeclared adds template args; a later template's default does not override an earlier one.
func mergeDeclared(have, add []v1alpha1.Argument) []v1alpha1.Argument {
	for _, a := range add {
		found := false
		for i := range have {
			if have[i].Name == a.Name {
				found = true
				if have[i].Value == nil && have[i].ValueFrom == nil {
					have[i] = *a.DeepCopy()
				}
			}
		}
		if !found {
			have = append(have, *a.DeepCopy())
		}
	}
	return have
}

// bindArgs gives each declared argument the caller's value (caller wins over the template's
// default). Arguments the templates do not declare are ignored, as in Argo.
func bindArgs(declared, given []v1alpha1.Argument) ([]v1alpha1.Argument, error) {
	for i := range declared {
		for _, g := range given {
			if g.Name == declared[i].Name && (g.Value != nil || g.ValueFrom != nil) {
				declared[i].Value, declared[i].ValueFrom = g.Value, g.ValueFrom
			}
		}
		if declared[i].Value == nil && (declared[i].ValueFrom == nil || declared[i].ValueFrom.SecretKeyRef == nil) {
			return nil, fmt.Errorf("args.%s was not resolved", declared[i].Name)
		}
	}
	return declared, nil
}

func checkMetrics(spec v1alpha1.AnalysisRunSpec) error {
	if len(spec.Metrics) == 0 {
		return fmt.Errorf("analysis templates define no metrics")
	}
	names := map[string]bool{}
	declared := map[string]bool{}
	for _, a := range spec.Args {
		declared[a.Name] = true
	}
	for _, m := range spec.Metrics {
		if names[m.Name] {
			return fmt.Errorf("two metrics named %q", m.Name)
		}
		names[m.Name] = true
		for _, ref := range ReferencedArgs(m) {
			if !declared[ref] {
				return fmt.Errorf("metric %q uses {{args.%s}}, which no template declares", m.Name, ref)
			}
		}
		if _, _, err := PluginFor(m); err != nil {
			return err
		}
	}
	return nil
}
