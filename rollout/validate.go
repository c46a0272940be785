package rollout

import (
	"fmt"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/rollout/analysis"
	"github.com/nerve-rollouts/nerve/rollout/rules"
)

// validate returns a precise message for the first reason the Rollout cannot be run; "" when
// it is valid. Nothing is applied for an invalid Rollout. The rules are rollout/rules'; this
// fills their Env from the controller's plugin registry, Service cache and templates.
func (rc *rolloutCtx) validate(podHash string) string {
	if f := rules.FirstError(rules.ValidateRollout(rc.ro, rc.rulesEnv(podHash))); f != nil {
		return fmt.Sprintf("The Rollout %q is invalid: %s", rc.ro.Name, f)
	}
	return ""
}

func (rc *rolloutCtx) rulesEnv(podHash string) rules.Env {
	return rules.Env{
		RouterRegistered: func(name string) bool { return rc.c.plugins.Has(plugins.KindTrafficRouter, name) },
		ServiceExists: func(name string) bool {
			_, err := rc.c.svcLister.Services(rc.ro.Namespace).Get(name)
			return err == nil
		},
		Analysis: func(path string, ra v1alpha1.RolloutAnalysis) []rules.Finding {
			return rc.checkAnalysis(path, ra, podHash)
		},
	}
}

// checkAnalysis builds (without creating) a run the Rollout may start, so that a bad template
// reference or an unresolvable argument is reported before anything is applied; then the
// templates get the rules' analysis checks (a step analysis must end, every metric's provider
// plugin must be registered).
func (rc *rolloutCtx) checkAnalysis(path string, ra v1alpha1.RolloutAnalysis, podHash string) []rules.Finding {
	args, err := rolloutArgs(rc.ro, podHash, ra.Args)
	if err == nil {
		_, err = analysis.BuildRunSpec(rc.c, rc.ro.Namespace, ra.Templates, args)
	}
	if err != nil {
		return []rules.Finding{{Path: path, Severity: rules.Error, Type: rules.Invalid, Detail: err.Error()}}
	}
	return rules.AnalysisTemplates(path, rc.templatesOf(ra.Templates), func(name string) bool {
		return rc.c.plugins.Has(plugins.KindMetricProvider, name)
	})
}

// templatesOf returns the templates an analysis references directly (BuildRunSpec has checked
// that they exist).
func (rc *rolloutCtx) templatesOf(refs []v1alpha1.AnalysisTemplateRef) []rules.Template {
	var out []rules.Template
	for _, ref := range refs {
		if ref.ClusterScope != nil && *ref.ClusterScope {
			if t, err := rc.c.ClusterAnalysisTemplate(ref.TemplateName); err == nil {
				out = append(out, rules.Template{Name: t.Name, Spec: &t.Spec})
			}
			continue
		}
		if t, err := rc.c.AnalysisTemplate(rc.ro.Namespace, ref.TemplateName); err == nil {
			out = append(out, rules.Template{Name: t.Name, Spec: &t.Spec})
		}
	}
	return out
}
