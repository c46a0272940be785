// Package kube is nerve's lean REST layer over client-go's rest package: a Resource per kind
// (get, list, watch, create, update, patch, delete and their subresources), a Builder that makes
// REST clients for a scheme with only the API groups a binary uses, and list-watches for
// informers. The controller (rollout/kube), kubectl-nerve, the routers and the metric providers
// all build on it.
//
// It exists for size: client-go's typed clientset (k8s.io/client-go/kubernetes) and its scheme
// link every built-in API group, and a generated clientset for custom resources (gateway-api's)
// links every version of its group with their apply configurations. Resource makes the same
// REST calls the typed clientsets make (same paths, verbs, query options and bodies, protobuf
// for built-in kinds and JSON for custom resources).
package kube
