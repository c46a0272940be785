package lint

import (
	"fmt"
	"sort"
	"strings"
)

// The Argo CD keys the GitOps checks read.
const (
	annSyncWave          = "argocd.argoproj.io/sync-wave"
	annCompareOptions    = "argocd.argoproj.io/compare-options"
	healthApplicationKey = "resource.customizations.health.argoproj.io_Application"
	serverSideDiffParam  = "controller.diff.server.side"
)

// routerKinds are the kinds whose spec a traffic router rewrites during a canary: a sync that
// resets them moves traffic.
var routerKinds = map[string]bool{
	"MLLPRoute": true, "HTTPRoute": true, "GRPCRoute": true, "TCPRoute": true, "TLSRoute": true,
	"VirtualService": true, "TrafficSplit": true, "Ingress": true,
}

// gitopsTree is what the checks need to know about the whole tree: the Argo CD settings can
// sit in another file than the Applications.
type gitopsTree struct {
	apps                []*appDoc
	applicationHealth   bool
	serverSideDiffParam bool
}

// appDoc is one Application, or the template of an ApplicationSet (prefix spec.template.).
type appDoc struct {
	file   string
	doc    *document
	kind   string
	name   string
	prefix string
	meta   map[string]any
	spec   map[string]any
}

// LintGitOps checks Argo CD Applications and ApplicationSets of a whole tree (files by name)
// for the mistakes that make a GitOps setup misbehave silently:
//   - an Application carrying a sync-wave while no argocd-cm restores the health of Applications
//     (removed in Argo CD 1.8, argo-cd#3781): the waves do not wait for each other;
//   - syncOptions ServerSideApply=true without the ServerSideDiff=true compare option (or
//     controller.diff.server.side in argocd-cmd-params-cm): Argo CD falls back to its
//     discontinued structured-merge diff;
//   - ignoreDifferences without RespectIgnoreDifferences=true: the fields are only hidden from
//     the diff, and a sync resets them (an error for a router's route: a sync during a canary
//     resets its weights).
func LintGitOps(files map[string][]byte) []Finding {
	tree := &gitopsTree{}
	var out []Finding
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		docs, err := parseDocuments(files[name])
		if err != nil {
			out = append(out, Finding{File: name, Line: yamlErrLine(err), Severity: Error, Message: "invalid YAML: " + err.Error()})
		}
		for _, d := range docs {
			tree.add(name, d)
		}
	}
	for _, a := range tree.apps {
		out = append(out, tree.check(a)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out
}

func (t *gitopsTree) add(file string, d *document) {
	kind, _ := d.value["kind"].(string)
	meta, _ := d.value["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	spec, _ := d.value["spec"].(map[string]any)
	switch kind {
	case "Application":
		t.apps = append(t.apps, &appDoc{file: file, doc: d, kind: kind, name: name, meta: meta, spec: spec})
	case "ApplicationSet":
		tmpl, _ := spec["template"].(map[string]any)
		tmeta, _ := tmpl["metadata"].(map[string]any)
		tspec, _ := tmpl["spec"].(map[string]any)
		t.apps = append(t.apps, &appDoc{file: file, doc: d, kind: kind, name: name, prefix: "spec.template.", meta: tmeta, spec: tspec})
	case "ConfigMap":
		data, _ := d.value["data"].(map[string]any)
		switch name {
		case "argocd-cm":
			t.applicationHealth = hasApplicationHealth(data)
		case "argocd-cmd-params-cm":
			v, _ := data[serverSideDiffParam].(string)
			t.serverSideDiffParam = strings.EqualFold(v, "true")
		}
	}
}

// hasApplicationHealth reports a health customization for argoproj.io/Application, in the
// per-key form or in the legacy resource.customizations block.
func hasApplicationHealth(data map[string]any) bool {
	if v, _ := data[healthApplicationKey].(string); strings.TrimSpace(v) != "" {
		return true
	}
	legacy, _ := data["resource.customizations"].(string)
	return strings.Contains(legacy, "argoproj.io/Application:") && strings.Contains(legacy, "health.lua")
}

func (t *gitopsTree) check(a *appDoc) []Finding {
	var out []Finding
	add := func(sev Severity, path, format string, args ...any) {
		out = append(out, Finding{File: a.file, Line: a.doc.lineOf(a.prefix + path), Severity: sev,
			Object: a.kind + "/" + a.name, Path: a.prefix + path, Message: fmt.Sprintf(format, args...)})
	}
	ann, _ := a.meta["annotations"].(map[string]any)
	if _, ok := ann[annSyncWave]; ok && !t.applicationHealth {
		add(Error, "metadata.annotations."+annSyncWave,
			"the sync wave of an Application does not wait: Argo CD has no health for Applications since 1.8 (argo-cd#3781); add %s to argocd-cm", healthApplicationKey)
	}
	opts := syncOptions(a.spec)
	compare, _ := ann[annCompareOptions].(string)
	if opts["ServerSideApply"] == "true" && !strings.Contains(compare, "ServerSideDiff=true") && !t.serverSideDiffParam {
		add(Error, "spec.syncPolicy.syncOptions",
			"ServerSideApply=true without the compare option ServerSideDiff=true (annotation %s) selects Argo CD's discontinued structured-merge diff", annCompareOptions)
	}
	ignores, _ := a.spec["ignoreDifferences"].([]any)
	if len(ignores) > 0 && opts["RespectIgnoreDifferences"] != "true" {
		out = append(out, t.ignoreFindings(a, ignores)...)
	}
	return out
}

func (t *gitopsTree) ignoreFindings(a *appDoc, ignores []any) []Finding {
	var out []Finding
	for i, item := range ignores {
		m, _ := item.(map[string]any)
		kind, _ := m["kind"].(string)
		path := fmt.Sprintf("spec.ignoreDifferences[%d]", i)
		f := Finding{File: a.file, Line: a.doc.lineOf(a.prefix + path), Object: a.kind + "/" + a.name, Path: a.prefix + path}
		if routerKinds[kind] {
			f.Severity = Error
			f.Message = fmt.Sprintf("%s fields are ignored only in the diff: without syncOptions RespectIgnoreDifferences=true a sync during a canary resets the router's weights", kind)
		} else {
			f.Severity = Warning
			f.Message = fmt.Sprintf("%s fields are ignored only in the diff: without syncOptions RespectIgnoreDifferences=true a sync resets those that Git declares", kind)
		}
		out = append(out, f)
	}
	return out
}

// syncOptions returns spec.syncPolicy.syncOptions as a map (Key=Value).
func syncOptions(spec map[string]any) map[string]string {
	out := map[string]string{}
	sp, _ := spec["syncPolicy"].(map[string]any)
	list, _ := sp["syncOptions"].([]any)
	for _, o := range list {
		s, _ := o.(string)
		k, v, _ := strings.Cut(s, "=")
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}
