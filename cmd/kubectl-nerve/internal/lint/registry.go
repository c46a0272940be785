package lint

import (
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// registryEntry is one plugin of the argo-rollouts-config registry.
type registryEntry struct {
	Name     string   `json:"name"`
	Location string   `json:"location"`
	SHA256   string   `json:"sha256"`
	Args     []string `json:"args"`
}

func (l *linter) registry(o *object) {
	for _, key := range []string{"trafficRouterPlugins", "metricProviderPlugins"} {
		text, ok := o.data[key]
		if !ok {
			continue
		}
		path := "data." + key
		var entries []registryEntry
		if err := yaml.UnmarshalStrict([]byte(text), &entries); err != nil {
			l.add(o, Error, path, "not a list of {name, location, sha256, args}: %v", err)
			continue
		}
		seen := map[string]bool{}
		for i, e := range entries {
			l.entry(o, path, i, e, seen)
		}
	}
}

func (l *linter) entry(o *object, path string, i int, e registryEntry, seen map[string]bool) {
	at := fmt.Sprintf("%s[%d]", path, i)
	switch {
	case e.Name == "":
		l.add(o, Error, path, "%s: plugin without a name", at)
	case !strings.Contains(e.Name, "/"):
		l.add(o, Warning, path, "%s: plugin name %q has no namespace prefix", at, e.Name)
	}
	if seen[e.Name] {
		l.add(o, Error, path, "%s: duplicate plugin %q", at, e.Name)
	}
	seen[e.Name] = true
	if !strings.HasPrefix(e.Location, "file://") && !strings.HasPrefix(e.Location, "http://") && !strings.HasPrefix(e.Location, "https://") {
		l.add(o, Error, path, "%s: location %q must be file://, http:// or https://", at, e.Location)
	}
	if e.SHA256 == "" {
		l.add(o, Warning, path, "%s: plugin %q has no sha256; `kubectl nerve plugins config` writes it", at, e.Name)
	} else if !isSHA256(e.SHA256) {
		l.add(o, Error, path, "%s: sha256 of %q must be 64 lowercase hex characters, got %d", at, e.Name, len(e.SHA256))
	}
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
