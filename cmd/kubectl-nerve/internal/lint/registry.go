package lint

import (
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// registry reports the plugin host's findings on an argo-rollouts-config ConfigMap: the host
// owns the format, lint only places each finding on a line (the nearest field of its path).
func (l *linter) registry(o *object) {
	_, findings := host.CheckConfigMap(o.data)
	for _, f := range findings {
		l.add(o, severity(f.Severity), f.Path, "%s", f.Message)
	}
}

// severity maps a host severity onto lint's.
func severity(s host.Severity) Severity {
	if s == host.SeverityWarning {
		return Warning
	}
	return Error
}
