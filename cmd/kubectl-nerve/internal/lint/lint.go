package lint

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// Severity of a finding.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one problem.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Severity Severity `json:"severity"`
	Object   string   `json:"object,omitempty"`
	Path     string   `json:"path,omitempty"`
	Message  string   `json:"message"`
}

// String is "file:line: severity: Kind/name: path: message".
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: %s: ", f.File, f.Line, f.Severity)
	if f.Object != "" {
		b.WriteString(f.Object + ": ")
	}
	if f.Path != "" {
		b.WriteString(f.Path + ": ")
	}
	b.WriteString(f.Message)
	return b.String()
}

// object is one decoded document.
type object struct {
	doc  *document
	kind string
	name string
	ro   *v1alpha1.Rollout
	tmpl *v1alpha1.AnalysisTemplateSpec
	data map[string]string
}

// linter collects findings for one file.
type linter struct {
	file     string
	findings []Finding
	objects  []*object
}

func (l *linter) add(o *object, sev Severity, path, format string, a ...any) {
	line := 0
	name := ""
	if o != nil {
		line = o.doc.lineOf(path)
		name = o.kind + "/" + o.name
	}
	l.findings = append(l.findings, Finding{File: l.file, Line: line, Severity: sev, Object: name, Path: path, Message: fmt.Sprintf(format, a...)})
}

// Lint checks the YAML documents of one file.
func Lint(file string, data []byte) []Finding {
	l := &linter{file: file}
	docs, err := parseDocuments(data)
	if err != nil {
		l.findings = append(l.findings, Finding{File: file, Line: yamlErrLine(err), Severity: Error, Message: "invalid YAML: " + err.Error()})
	}
	for _, d := range docs {
		l.decode(d)
	}
	for _, o := range l.objects {
		switch {
		case o.ro != nil:
			l.rollout(o)
		case o.tmpl != nil:
			l.template(o)
		case o.data != nil:
			l.registry(o)
		}
	}
	sort.SliceStable(l.findings, func(i, j int) bool { return l.findings[i].Line < l.findings[j].Line })
	return l.findings
}

func yamlErrLine(err error) int {
	var line int
	if _, e := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); e == nil {
		return line
	}
	return 1
}

func (l *linter) decode(d *document) {
	kind, _ := d.value["kind"].(string)
	apiVersion, _ := d.value["apiVersion"].(string)
	meta, _ := d.value["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	o := &object{doc: d, kind: kind, name: name}
	raw, err := json.Marshal(d.value)
	if err != nil {
		l.add(o, Error, "", "cannot convert to JSON: %v", err)
		return
	}
	switch {
	case strings.HasPrefix(apiVersion, v1alpha1.Group+"/") && kind == v1alpha1.RolloutKind:
		ro := &v1alpha1.Rollout{}
		if l.strict(o, raw, ro) {
			o.ro = ro
		}
	case strings.HasPrefix(apiVersion, v1alpha1.Group+"/") && (kind == v1alpha1.AnalysisTemplateKind || kind == v1alpha1.ClusterAnalysisTemplateKind):
		t := &v1alpha1.AnalysisTemplate{}
		if l.strict(o, raw, t) {
			o.tmpl = &t.Spec
		}
	case kind == "ConfigMap" && name == host.ConfigMapName:
		cm := struct {
			Data map[string]string `json:"data"`
		}{}
		if err := json.Unmarshal(raw, &cm); err != nil {
			l.add(o, Error, "data", "%v", err)
			return
		}
		o.data = cm.Data
		if o.data == nil {
			o.data = map[string]string{}
		}
	default:
		return
	}
	if name == "" {
		l.add(o, Error, "metadata.name", "metadata.name is required")
	}
	l.objects = append(l.objects, o)
}

// strict decodes raw into into and reports every unknown field (each at its path: the API
// server would prune it) and type errors.
func (l *linter) strict(o *object, raw []byte, into any) bool {
	if err := json.Unmarshal(raw, into); err != nil {
		path := ""
		var te *json.UnmarshalTypeError
		if asTypeError(err, &te) {
			path = te.Field
		}
		l.add(o, Error, path, "%v", err)
		return false
	}
	for _, path := range unknownFields(o.doc.value, reflect.TypeOf(into)) {
		name := path[strings.LastIndexAny(path, ".")+1:]
		l.add(o, Error, path, "unknown field %q", name)
	}
	return true
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = t
	}
	return ok
}

// templates returns the AnalysisTemplates of the file by name.
func (l *linter) templates() map[string]*object {
	out := map[string]*object{}
	for _, o := range l.objects {
		if o.tmpl != nil {
			out[o.kind+"/"+o.name] = o
		}
	}
	return out
}
