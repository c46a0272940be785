// Package analysis is nerve's AnalysisRun engine: it builds runs from (Cluster)AnalysisTemplates
// and Rollout arguments, substitutes {{args.x}}, and takes measurements through metric-provider
// plugins, applying Argo Rollouts' interval/count/limit rules and phase ranking
// (analysis/analysis.go, utils/analysis). Built-in provider blocks such as provider.prometheus
// are handed, unchanged, to the plugin registered as nerve/<kind>.
package analysis
