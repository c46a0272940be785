package kube

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// The broadcaster writes through the sink into the object's namespace: the first event is a
// create, its repeat a patch of the same event (client-go's correlator counts it).
func TestEventSinkCreatesThenPatchesRepeats(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, s := newTestClient(t, func(r *http.Request) (int, string) {
		return 200, `{"kind":"Event","apiVersion":"v1","metadata":{"name":"web.1","namespace":"ns"}}`
	})
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	b := record.NewBroadcaster(record.WithContext(ctx))
	defer b.Shutdown()
	b.StartRecordingToSink(NewEventSink(ctx, c.Events))
	rec := b.NewRecorder(scheme, corev1.EventSource{Component: "rollouts-controller"})
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "u1"}}
	rec.Event(ro, corev1.EventTypeNormal, "RolloutUpdated", "updated")
	waitRequests(t, s, 1)
	rec.Event(ro, corev1.EventTypeNormal, "RolloutUpdated", "updated")
	waitRequests(t, s, 2)
	s.mu.Lock()
	defer s.mu.Unlock()
	create, patch := s.reqs[0], s.reqs[1]
	if create.Method != "POST" || create.Path != "/api/v1/namespaces/ns/events" {
		t.Errorf("first event: %s %s; want POST /api/v1/namespaces/ns/events", create.Method, create.Path)
	}
	if patch.Method != "PATCH" || !strings.HasPrefix(patch.Path, "/api/v1/namespaces/ns/events/web.") ||
		patch.ContentType != "application/strategic-merge-patch+json" || !strings.Contains(string(patch.Body), `"count":2`) {
		t.Errorf("repeat: %s %s %s %s; want a strategic merge patch of count 2", patch.Method, patch.Path, patch.ContentType, patch.Body)
	}
}

func waitRequests(t *testing.T, s *apiServer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		got := len(s.reqs)
		s.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d requests reached the server", n)
}
