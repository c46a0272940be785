package rules

import "fmt"

// Severity says whether a finding stops the controller (Error: the Rollout is InvalidSpec) or
// is advice that lint prints (Warning).
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Type is the kind of an Error finding, worded as Kubernetes' field errors are (and as Argo's
// InvalidSpec messages are).
type Type string

// Types of Error findings.
const (
	Required    Type = "Required value"
	Invalid     Type = "Invalid value"
	Unsupported Type = "Unsupported value"
	NotFound    Type = "Not found"
)

// Finding is one problem of a Rollout, at a field path (e.g. spec.strategy.canary.steps[2]).
type Finding struct {
	Path     string
	Severity Severity
	Type     Type
	// Detail is the controller's wording, after "path: Type: ".
	Detail string
	// Hint is a longer wording for people (lint); empty means Detail, prefixed by Type.
	Hint string
}

// String is the controller's wording: "path: Type: detail" (warnings: "path: detail").
func (f Finding) String() string {
	if f.Type == "" {
		return f.Path + ": " + f.Detail
	}
	return fmt.Sprintf("%s: %s: %s", f.Path, f.Type, f.Detail)
}

// Explain is lint's wording of the finding, without its path.
func (f Finding) Explain() string {
	switch {
	case f.Hint != "":
		return f.Hint
	case f.Type == "":
		return f.Detail
	}
	return fmt.Sprintf("%s: %s", f.Type, f.Detail)
}

// FirstError returns the first Error finding, or nil.
func FirstError(fs []Finding) *Finding {
	for i := range fs {
		if fs[i].Severity == Error {
			return &fs[i]
		}
	}
	return nil
}

// findings collects findings in order.
type findings []Finding

func (fs *findings) fail(path string, t Type, hint, format string, a ...any) {
	*fs = append(*fs, Finding{Path: path, Severity: Error, Type: t, Detail: fmt.Sprintf(format, a...), Hint: hint})
}

func (fs *findings) warn(path, format string, a ...any) {
	*fs = append(*fs, Finding{Path: path, Severity: Warning, Detail: fmt.Sprintf(format, a...)})
}
