// Package lint checks Rollouts, AnalysisTemplates and plugin configuration offline, the way
// nerve's controller and Argo's would refuse or misrun them, and reports each finding with the
// file and line of the offending field. Errors keep a rollout from running; warnings point at
// configurations that run but cannot do what they seem to (a metric that can never fail).
package lint
