// Package gitops is the GitOps half of kubectl nerve: it reads Argo CD Applications, renders
// their Git directories in process (kustomize's krusty), compares them with the live objects
// (drift), finds the analysis verdict of a revision, and writes Git through the user's own git
// (promotion, rollback). It never syncs: Argo CD applies Git; nerve only reads the cluster,
// writes Git, and sends the Rollout status verbs it already has.
//
// Environments are Git directories (manifests/environments/<env>/<app>) deployed by one
// Application each, labelled nerve.io/app=<app> and nerve.io/environment=<env> (or named
// <app>-<env>). A revision, across environments, is the set of images of the app's Rollouts:
// the pod templates of two environments differ (labels, replicas, env), their images do not.
package gitops
