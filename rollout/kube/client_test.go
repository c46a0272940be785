package kube

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// seen is one request as the API server received it.
type seen struct {
	Method, Path, Query, ContentType, Accept string
	Body                                     []byte
}

// apiServer answers every request with reply (JSON, as the API server may whatever the client
// prefers) and records it.
type apiServer struct {
	mu    sync.Mutex
	reqs  []seen
	reply func(r *http.Request) (int, string)
}

func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.reqs = append(s.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("Accept"), body})
	s.mu.Unlock()
	code, out := s.reply(r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, out)
}

func (s *apiServer) last(t *testing.T) seen {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("no request reached the server")
	}
	return s.reqs[len(s.reqs)-1]
}

func newTestClient(t *testing.T, reply func(r *http.Request) (int, string)) (*Client, *apiServer) {
	t.Helper()
	s := &apiServer{reply: reply}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := New(&rest.Config{Host: srv.URL, QPS: -1}, "nerve-test")
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func objJSON(t *testing.T, o any) string {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const protobufFirst = "application/vnd.kubernetes.protobuf,application/json"

// Each call is the typed clientset's request: path, verb, options in the query, content types.
func TestResourceCallsAreTheTypedClientsetRequests(t *testing.T) {
	ctx := context.Background()
	rs := &appsv1.ReplicaSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-abc", ResourceVersion: "7"}}
	ro := &v1alpha1.Rollout{TypeMeta: metav1.TypeMeta{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}}
	c, s := newTestClient(t, func(r *http.Request) (int, string) {
		switch {
		case strings.Contains(r.URL.Path, "/replicasets"):
			return 200, objJSON(t, rs)
		case strings.Contains(r.URL.Path, "/rollouts"):
			return 200, objJSON(t, ro)
		case strings.HasSuffix(r.URL.Path, "/eviction"), r.Method == http.MethodDelete:
			return 200, `{"kind":"Status","apiVersion":"v1","status":"Success"}`
		}
		return 200, `{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"p1"}}]}`
	})
	cases := []struct {
		name string
		call func() error
		want seen // Body unchecked unless set
	}{
		{"create replicaset", func() error { return c.ReplicaSets.Create(ctx, "ns", rs, &appsv1.ReplicaSet{}) },
			seen{Method: "POST", Path: "/apis/apps/v1/namespaces/ns/replicasets", Query: "fieldManager=nerve-test",
				ContentType: "application/vnd.kubernetes.protobuf", Accept: protobufFirst}},
		{"get replicaset", func() error { return c.ReplicaSets.Get(ctx, "ns", "web-abc", &appsv1.ReplicaSet{}) },
			seen{Method: "GET", Path: "/apis/apps/v1/namespaces/ns/replicasets/web-abc", Accept: protobufFirst}},
		{"update replicaset", func() error { return c.ReplicaSets.Update(ctx, "ns", "web-abc", "", rs, &appsv1.ReplicaSet{}) },
			seen{Method: "PUT", Path: "/apis/apps/v1/namespaces/ns/replicasets/web-abc", Query: "fieldManager=nerve-test",
				ContentType: "application/vnd.kubernetes.protobuf", Accept: protobufFirst}},
		{"delete replicaset", func() error { return c.ReplicaSets.Delete(ctx, "ns", "web-abc", metav1.DeleteOptions{}) },
			seen{Method: "DELETE", Path: "/apis/apps/v1/namespaces/ns/replicasets/web-abc",
				ContentType: "application/vnd.kubernetes.protobuf", Accept: protobufFirst}},
		{"list pods", func() error {
			return c.Pods.List(ctx, "ns", metav1.ListOptions{LabelSelector: "app=web"}, &corev1.PodList{})
		}, seen{Method: "GET", Path: "/api/v1/namespaces/ns/pods", Query: "labelSelector=app%3Dweb", Accept: protobufFirst}},
		{"patch service", func() error {
			return c.Services.Patch(ctx, "ns", "web", types.MergePatchType, []byte(`{"spec":{}}`), nil)
		}, seen{Method: "PATCH", Path: "/api/v1/namespaces/ns/services/web", Query: "fieldManager=nerve-test",
			ContentType: "application/merge-patch+json", Accept: protobufFirst, Body: []byte(`{"spec":{}}`)}},
		{"evict pod", func() error {
			return c.Pods.CreateSubresource(ctx, "ns", "p1", "eviction",
				&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p1"}})
		}, seen{Method: "POST", Path: "/api/v1/namespaces/ns/pods/p1/eviction",
			ContentType: "application/vnd.kubernetes.protobuf", Accept: protobufFirst}},
		{"update rollout status", func() error { return c.Rollouts.Update(ctx, "ns", "web", "status", ro, &v1alpha1.Rollout{}) },
			seen{Method: "PUT", Path: "/apis/argoproj.io/v1alpha1/namespaces/ns/rollouts/web/status", Query: "fieldManager=nerve-test",
				ContentType: "application/json", Accept: "application/json, */*"}},
		{"list cluster templates ignores the namespace", func() error {
			return c.ClusterAnalysisTemplates.List(ctx, "ns", metav1.ListOptions{}, &v1alpha1.ClusterAnalysisTemplateList{})
		}, seen{Method: "GET", Path: "/apis/argoproj.io/v1alpha1/clusteranalysistemplates", Accept: "application/json, */*"}},
	}
	for _, tc := range cases {
		if err := tc.call(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := s.last(t)
		if tc.want.Body == nil {
			got.Body = nil
		}
		if got.Method != tc.want.Method || got.Path != tc.want.Path || got.Query != tc.want.Query ||
			got.ContentType != tc.want.ContentType || got.Accept != tc.want.Accept || string(got.Body) != string(tc.want.Body) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestResourceDecodesResultsAndErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestClient(t, func(r *http.Request) (int, string) {
		if strings.HasSuffix(r.URL.Path, "/missing") {
			return 404, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"secrets \"missing\" not found"}`
		}
		return 200, `{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","namespace":"ns"},"data":{"k":"dg=="}}`
	})
	sec := &corev1.Secret{}
	if err := c.Secrets.Get(ctx, "ns", "s", sec); err != nil || string(sec.Data["k"]) != "v" || sec.Name != "s" {
		t.Fatalf("Get = %+v, %v", sec, err)
	}
	err := c.Secrets.Get(ctx, "ns", "missing", &corev1.Secret{})
	if err == nil || !strings.Contains(err.Error(), `secrets "missing" not found`) {
		t.Fatalf("Get missing = %v; want the API server's NotFound", err)
	}
}

// ListWatch narrows both calls by its selectors and decodes a watch stream into the kind.
func TestListWatchNarrowsAndDecodes(t *testing.T) {
	ctx := context.Background()
	c, s := newTestClient(t, func(r *http.Request) (int, string) {
		if r.URL.Query().Get("watch") == "true" {
			return 200, `{"type":"ADDED","object":{"kind":"Rollout","apiVersion":"argoproj.io/v1alpha1","metadata":{"name":"web","namespace":"ns","resourceVersion":"9"}}}` + "\n"
		}
		return 200, `{"kind":"RolloutList","apiVersion":"argoproj.io/v1alpha1","metadata":{"resourceVersion":"8"},"items":[{"metadata":{"name":"web"}}]}`
	})
	lw := c.Rollouts.ListWatch("ns", Selectors{Label: "!x", Field: "metadata.name=web"},
		func() runtime.Object { return &v1alpha1.RolloutList{} })
	obj, err := lw.ListWithContext(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	if l := obj.(*v1alpha1.RolloutList); len(l.Items) != 1 || l.Items[0].Name != "web" || l.ResourceVersion != "8" {
		t.Fatalf("list = %+v", l)
	}
	if got := s.last(t); got.Path != "/apis/argoproj.io/v1alpha1/namespaces/ns/rollouts" ||
		got.Query != "fieldSelector=metadata.name%3Dweb&labelSelector=%21x&resourceVersion=0" {
		t.Fatalf("list request %+v", got)
	}
	w, err := lw.WatchWithContext(ctx, metav1.ListOptions{ResourceVersion: "8"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := <-w.ResultChan()
	if ro, ok := ev.Object.(*v1alpha1.Rollout); ev.Type != watch.Added || !ok || ro.Name != "web" || ro.ResourceVersion != "9" {
		t.Fatalf("watch event %v %#v", ev.Type, ev.Object)
	}
	if got := s.last(t); got.Query != "fieldSelector=metadata.name%3Dweb&labelSelector=%21x&resourceVersion=8&watch=true" {
		t.Fatalf("watch request %+v", got)
	}
}
