package cli

import (
	"context"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// discoveryMapper maps a kind of a group-version to its resource and scope from the
// group-version's discovery document, read once per process when first needed (drift maps every
// rendered object; client-go's discovery REST mapper reads all groups up front and links every
// built-in API group). Only the version-qualified lookups drift makes are answered; the other
// RESTMapper methods report no match.
type discoveryMapper struct {
	meta.RESTMapper // the unanswered methods (an empty mapper)
	resources       func(ctx context.Context, groupVersion string) (*metav1.APIResourceList, error)

	mu   sync.Mutex
	seen map[string]*metav1.APIResourceList
}

func newDiscoveryMapper(resources func(context.Context, string) (*metav1.APIResourceList, error)) *discoveryMapper {
	return &discoveryMapper{RESTMapper: meta.NewDefaultRESTMapper(nil), resources: resources, seen: map[string]*metav1.APIResourceList{}}
}

// RESTMapping returns the mapping of gk in the first of versions that serves it.
func (m *discoveryMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	for _, v := range versions {
		gv := schema.GroupVersion{Group: gk.Group, Version: v}
		list, err := m.list(gv)
		if err != nil {
			return nil, err
		}
		for _, r := range list.APIResources {
			if r.Kind != gk.Kind || strings.Contains(r.Name, "/") {
				continue
			}
			scope := meta.RESTScopeRoot
			if r.Namespaced {
				scope = meta.RESTScopeNamespace
			}
			return &meta.RESTMapping{Resource: gv.WithResource(r.Name), GroupVersionKind: gv.WithKind(gk.Kind), Scope: scope}, nil
		}
	}
	return nil, &meta.NoKindMatchError{GroupKind: gk, SearchedVersions: versions}
}

// list is gv's resources (none when the API server does not serve gv).
func (m *discoveryMapper) list(gv schema.GroupVersion) (*metav1.APIResourceList, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.seen[gv.String()]; ok {
		return l, nil
	}
	l, err := m.resources(context.Background(), gv.String())
	if apierrors.IsNotFound(err) {
		l, err = &metav1.APIResourceList{GroupVersion: gv.String()}, nil
	}
	if err != nil {
		return nil, err
	}
	m.seen[gv.String()] = l
	return l, nil
}
