//go:build e2e

package framework

import (
	"fmt"
	"strings"
)

// TestRollout is the pause-container Rollout every e2e area deploys: Replicas pods labelled
// app=<Name> (the selector), RevisionHistoryLimit old ReplicaSets kept (0 means 3), and pods that
// declare Ports (a YAML flow sequence such as "[{name: mllp, containerPort: 2575}]") when set.
type TestRollout struct {
	Name                 string
	Replicas             int
	RevisionHistoryLimit int
	Ports                string
}

// YAML is the Rollout's manifest; strategy is the YAML body under spec.strategy, indented by 4
// spaces (it starts with "    canary:" or "    blueGreen:").
func (r TestRollout) YAML(strategy string) string {
	limit := r.RevisionHistoryLimit
	if limit == 0 {
		limit = 3
	}
	ports := ""
	if r.Ports != "" {
		ports = "\n        ports: " + r.Ports
	}
	return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  revisionHistoryLimit: %[3]d
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10%[4]s
  strategy:
%[5]s`, r.Name, r.Replicas, limit, ports, strings.TrimLeft(strategy, "\n"))
}
