package gitops

import (
	"fmt"
	"sort"
	"strings"
)

// PrometheusText renders a drift report in Prometheus' text exposition format: one
// nerve_drift_fields series per object and class, and nerve_drift_counted per app, so an alert
// can fire on the counted classes only (never on a canary's weights).
func PrometheusText(rep DriftReport) string {
	var b strings.Builder
	b.WriteString("# HELP nerve_drift_fields Fields of live objects that differ from Git, by class (manual, pending, missing are drift; router, ignored, default are not).\n")
	b.WriteString("# TYPE nerve_drift_fields gauge\n")
	type key struct{ kind, ns, name, class string }
	counts := map[key]int{}
	for _, od := range rep.Objects {
		for _, f := range od.Fields {
			counts[key{od.Kind, od.Namespace, od.Name, f.Class}]++
		}
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	base := fmt.Sprintf(`app="%s",environment="%s",path="%s"`, esc(rep.App), esc(rep.Env), esc(rep.Path))
	for _, k := range keys {
		fmt.Fprintf(&b, "nerve_drift_fields{%s,kind=\"%s\",namespace=\"%s\",name=\"%s\",class=\"%s\"} %d\n",
			base, esc(k.kind), esc(k.ns), esc(k.name), k.class, counts[k])
	}
	b.WriteString("# HELP nerve_drift_counted Fields that differ from Git and count as drift.\n# TYPE nerve_drift_counted gauge\n")
	fmt.Fprintf(&b, "nerve_drift_counted{%s} %d\n", base, rep.Drifted)
	b.WriteString("# HELP nerve_drift_objects_compared Objects of the Git directory compared with the cluster.\n# TYPE nerve_drift_objects_compared gauge\n")
	fmt.Fprintf(&b, "nerve_drift_objects_compared{%s} %d\n", base, rep.Compared)
	return b.String()
}

func esc(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
