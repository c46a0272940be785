package rollout

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// rolloutArgs resolves a Rollout's analysis arguments: plain values, valueFrom
// podTemplateHashValue (Stable/Latest) and valueFrom fieldRef (a field path of the Rollout).
func rolloutArgs(ro *v1alpha1.Rollout, currentHash string, in []v1alpha1.AnalysisRunArgument) ([]v1alpha1.Argument, error) {
	out := make([]v1alpha1.Argument, 0, len(in))
	for _, a := range in {
		v, err := argValue(ro, currentHash, a)
		if err != nil {
			return nil, fmt.Errorf("arg %q: %w", a.Name, err)
		}
		out = append(out, v1alpha1.Argument{Name: a.Name, Value: &v})
	}
	return out, nil
}

func argValue(ro *v1alpha1.Rollout, currentHash string, a v1alpha1.AnalysisRunArgument) (string, error) {
	if a.ValueFrom == nil {
		return a.Value, nil
	}
	if h := a.ValueFrom.PodTemplateHashValue; h != nil {
		switch *h {
		case v1alpha1.Stable:
			return ro.Status.StableRS, nil
		case v1alpha1.Latest:
			return currentHash, nil
		}
		return "", fmt.Errorf("podTemplateHashValue must be Stable or Latest, not %q", *h)
	}
	if f := a.ValueFrom.FieldRef; f != nil {
		return fieldValue(ro, f.FieldPath)
	}
	return "", fmt.Errorf("valueFrom has neither podTemplateHashValue nor fieldRef")
}

// pathTokenPattern matches one segment of a field path: name, [index] or ['key'].
const pathTokenPattern = `([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]`

// fieldValue reads a field path such as metadata.labels['app'] or
// spec.template.spec.containers[0].image from the Rollout.
func fieldValue(ro *v1alpha1.Rollout, path string) (string, error) {
	raw, err := json.Marshal(ro)
	if err != nil {
		return "", err
	}
	var cur any
	if err := json.Unmarshal(raw, &cur); err != nil {
		return "", err
	}
	for _, m := range regexp.MustCompile(pathTokenPattern).FindAllStringSubmatch(path, -1) {
		cur, err = step(cur, m)
		if err != nil {
			return "", fmt.Errorf("fieldRef %q: %w", path, err)
		}
	}
	switch v := cur.(type) {
	case string:
		return v, nil
	case nil:
		return "", fmt.Errorf("fieldRef %q: no such field", path)
	default:
		b, _ := json.Marshal(v)
		return strings.Trim(string(b), `"`), nil
	}
}

func step(cur any, m []string) (any, error) {
	if m[2] != "" {
		arr, ok := cur.([]any)
		i, _ := strconv.Atoi(m[2])
		if !ok || i >= len(arr) {
			return nil, fmt.Errorf("index [%s] out of range", m[2])
		}
		return arr[i], nil
	}
	key := m[1] + m[3] + m[4]
	obj, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%q is not an object field", key)
	}
	v, ok := obj[key]
	if !ok {
		return nil, fmt.Errorf("no field %q", key)
	}
	return v, nil
}
