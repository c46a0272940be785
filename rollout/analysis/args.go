package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// argRefPattern matches {{args.name}} (spaces inside the braces allowed, as fasttemplate trims them).
const argRefPattern = `\{\{\s*args\.([A-Za-z0-9_.\-]+)\s*\}\}`

// SecretGetter reads one key of a Secret (valueFrom.secretKeyRef arguments).
type SecretGetter func(ctx context.Context, namespace, name, key string) (string, error)

// ResolveArgs returns the run's arguments as name → value, reading secretKeyRef values.
func ResolveArgs(ctx context.Context, run *v1alpha1.AnalysisRun, secrets SecretGetter) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range run.Spec.Args {
		switch {
		case a.Value != nil:
			out[a.Name] = *a.Value
		case a.ValueFrom != nil && a.ValueFrom.SecretKeyRef != nil && secrets != nil:
			ref := a.ValueFrom.SecretKeyRef
			v, err := secrets(ctx, run.Namespace, ref.Name, ref.Key)
			if err != nil {
				return nil, fmt.Errorf("arg %q: secret %s key %s: %w", a.Name, ref.Name, ref.Key, err)
			}
			out[a.Name] = v
		}
	}
	return out, nil
}

// Substitute replaces every {{args.x}} in the metric (in all its string fields, including the
// provider JSON) with the argument's value; an unknown argument is an error naming it.
func Substitute(m v1alpha1.Metric, args map[string]string) (v1alpha1.Metric, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return m, err
	}
	var missing []string
	argRef := regexp.MustCompile(argRefPattern)
	out := argRef.ReplaceAllStringFunc(string(raw), func(ref string) string {
		name := argRef.FindStringSubmatch(ref)[1]
		v, ok := args[name]
		if !ok {
			missing = append(missing, name)
			return ref
		}
		enc, _ := json.Marshal(v)
		return string(enc[1 : len(enc)-1])
	})
	if len(missing) > 0 {
		return m, fmt.Errorf("failed to resolve {{args.%s}}", strings.Join(missing, "}}, {{args."))
	}
	var res v1alpha1.Metric
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return m, fmt.Errorf("metric %q after argument substitution: %w", m.Name, err)
	}
	return res, nil
}

// ReferencedArgs lists the argument names a metric references.
func ReferencedArgs(m v1alpha1.Metric) []string {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return ArgRefs(string(raw))
}

// ArgRefs returns the NAMEs of the {{args.NAME}} placeholders in s, in order.
func ArgRefs(s string) []string {
	var names []string
	for _, sm := range regexp.MustCompile(argRefPattern).FindAllStringSubmatch(s, -1) {
		names = append(names, sm[1])
	}
	return names
}

// SubstituteString replaces the {{args.NAME}} placeholders of s whose values are known and
// leaves the others (for showing a query, where Substitute would fail).
func SubstituteString(s string, args map[string]string) string {
	argRef := regexp.MustCompile(argRefPattern)
	return argRef.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := args[argRef.FindStringSubmatch(ref)[1]]; ok {
			return v
		}
		return ref
	})
}
