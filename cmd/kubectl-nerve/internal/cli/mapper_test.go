package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// The mapper answers from each group-version's discovery document (GET /api/v1,
// /apis/<group>/<version>), read once: resource and scope of a kind, subresources skipped, and
// client-go's NoKindMatchError for a kind or group-version the server does not serve.
func TestDiscoveryMapper(t *testing.T) {
	var reqs atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/apps/v1":
			_, _ = io.WriteString(w, `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[
				{"name":"deployments/scale","kind":"Scale","namespaced":true},
				{"name":"deployments","singularName":"deployment","kind":"Deployment","namespaced":true}]}`)
		case "/api/v1":
			_, _ = io.WriteString(w, `{"kind":"APIResourceList","groupVersion":"v1","resources":[
				{"name":"namespaces","kind":"Namespace","namespaced":false},{"name":"pods","kind":"Pod","namespaced":true}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
		}
	}))
	defer srv.Close()
	k, err := newKube(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	m := newDiscoveryMapper(k.Resources)
	for _, tc := range []struct {
		gk      schema.GroupKind
		version string
		want    schema.GroupVersionResource
		scope   meta.RESTScopeName
	}{
		{schema.GroupKind{Group: "apps", Kind: "Deployment"}, "v1", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, meta.RESTScopeNameNamespace},
		{schema.GroupKind{Kind: "Namespace"}, "v1", schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, meta.RESTScopeNameRoot},
		{schema.GroupKind{Kind: "Pod"}, "v1", schema.GroupVersionResource{Version: "v1", Resource: "pods"}, meta.RESTScopeNameNamespace},
	} {
		got, err := m.RESTMapping(tc.gk, tc.version)
		if err != nil {
			t.Errorf("%v: %v", tc.gk, err)
			continue
		}
		if got.Resource != tc.want || got.Scope.Name() != tc.scope || got.GroupVersionKind != tc.want.GroupVersion().WithKind(tc.gk.Kind) {
			t.Errorf("%v: %+v", tc.gk, got)
		}
	}
	for gk, msg := range map[schema.GroupKind]string{
		{Group: "apps", Kind: "Scale"}:  `no matches for kind "Scale" in version "apps/v1"`,
		{Group: "nope.io", Kind: "Foo"}: `no matches for kind "Foo" in version "nope.io/v1"`,
	} {
		_, err := m.RESTMapping(gk, "v1")
		if !meta.IsNoMatchError(err) || err.Error() != msg {
			t.Errorf("%v: %v; want %s", gk, err, msg)
		}
	}
	if n := reqs.Load(); n != 3 {
		t.Errorf("%d discovery requests; want 3 (one per group-version)", n)
	}
}
