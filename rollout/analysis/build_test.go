package analysis

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

type templates map[string]v1alpha1.AnalysisTemplateSpec

func (t templates) AnalysisTemplate(_, name string) (*v1alpha1.AnalysisTemplate, error) {
	s, ok := t[name]
	if !ok {
		return nil, errors.New("not found")
	}
	return &v1alpha1.AnalysisTemplate{Spec: s}, nil
}

func (t templates) ClusterAnalysisTemplate(name string) (*v1alpha1.ClusterAnalysisTemplate, error) {
	s, ok := t["cluster/"+name]
	if !ok {
		return nil, errors.New("not found")
	}
	return &v1alpha1.ClusterAnalysisTemplate{Spec: s}, nil
}

func TestBuildRunSpec(t *testing.T) {
	m := metric("m")
	tm := templates{
		"t":          {Args: []v1alpha1.Argument{{Name: "svc"}}, Metrics: []v1alpha1.Metric{m}},
		"cluster/c":  {Args: []v1alpha1.Argument{{Name: "svc", Value: ptr.To("dflt")}}, Metrics: []v1alpha1.Metric{metric("c")}},
		"undeclared": {Metrics: []v1alpha1.Metric{m}},
	}
	spec, err := BuildRunSpec(tm, "ns", []v1alpha1.AnalysisTemplateRef{{TemplateName: "t"}, {TemplateName: "c", ClusterScope: ptr.To(true)}},
		[]v1alpha1.Argument{{Name: "svc", Value: ptr.To("api")}, {Name: "ignored", Value: ptr.To("x")}})
	if err != nil || len(spec.Metrics) != 2 || len(spec.Args) != 1 || *spec.Args[0].Value != "api" {
		t.Fatalf("spec %+v err %v", spec, err)
	}
	for _, c := range []struct {
		refs []v1alpha1.AnalysisTemplateRef
		want string
	}{
		{[]v1alpha1.AnalysisTemplateRef{{TemplateName: "t"}}, "args.svc was not resolved"},
		{[]v1alpha1.AnalysisTemplateRef{{TemplateName: "nope"}}, `AnalysisTemplate "nope": not found`},
		{[]v1alpha1.AnalysisTemplateRef{{TemplateName: "undeclared"}}, "uses {{args.svc}}, which no template declares"},
		{[]v1alpha1.AnalysisTemplateRef{{TemplateName: "t"}, {TemplateName: "t2"}}, "not found"},
	} {
		if _, err := BuildRunSpec(tm, "ns", c.refs, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.refs, err, c.want)
		}
	}
}

func TestSubstitute(t *testing.T) {
	m := metric("m")
	out, err := Substitute(m, map[string]string{"svc": `a"b`})
	if err != nil || !strings.Contains(string(out.Provider.Plugin["t/fake"]), `s=\"a\"b\"`) {
		t.Fatalf("%s %v", out.Provider.Plugin["t/fake"], err)
	}
	if _, err := Substitute(m, nil); err == nil || !strings.Contains(err.Error(), "{{args.svc}}") {
		t.Fatalf("missing arg: %v", err)
	}
}
