package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// memEvents is an API server for Events; failures[i] is the error of call i (when set).
type memEvents struct {
	mu       sync.Mutex
	events   map[string]*corev1.Event
	calls    []string // "create name" / "patch name body"
	failures map[int]error
}

func (m *memEvents) fail() error {
	err := m.failures[len(m.calls)-1]
	return err
}

func (m *memEvents) Create(_ context.Context, e *corev1.Event) (*corev1.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, "create "+e.Name)
	if err := m.fail(); err != nil {
		return nil, err
	}
	if e.ResourceVersion != "" {
		return nil, errors.New("create with a resourceVersion")
	}
	c := e.DeepCopy()
	c.ResourceVersion = "1"
	m.events[e.Name] = c
	return c.DeepCopy(), nil
}

func (m *memEvents) Patch(_ context.Context, old *corev1.Event, data []byte) (*corev1.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, "patch "+old.Name+" "+string(data))
	if err := m.fail(); err != nil {
		return nil, err
	}
	cur, ok := m.events[old.Name]
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "events"}, old.Name)
	}
	cur.Count, cur.Message, cur.LastTimestamp = old.Count, old.Message, old.LastTimestamp
	return cur.DeepCopy(), nil
}

func newTestRecorder(w EventWriter, clk *clock) *Recorder {
	s, _ := NewScheme()
	r := NewRecorder(klog.Background(), w, s, corev1.EventSource{Component: "rollouts-controller"})
	r.Now, r.RetryWait = clk.now, time.Millisecond
	return r
}

// drain writes every queued event (Run's loop, synchronously).
func drain(ctx context.Context, r *Recorder) {
	for {
		select {
		case e := <-r.queue:
			if out, patch, skip := r.correlate(e); !skip {
				r.writeWithRetries(ctx, out, patch)
			}
		default:
			return
		}
	}
}

func rolloutObj() *v1alpha1.Rollout {
	return &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "u1"}}
}

func TestRecorderCreatesPatchesRepeatsAndRecreatesExpired(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Unix(1000, 0)}
	m := &memEvents{events: map[string]*corev1.Event{}}
	r := newTestRecorder(m, clk)
	r.Eventf(rolloutObj(), corev1.EventTypeNormal, "RolloutUpdated", "updated to revision %d", 2)
	drain(ctx, r)
	if len(m.events) != 1 {
		t.Fatalf("events %v", m.calls)
	}
	var e *corev1.Event
	for _, v := range m.events {
		e = v
	}
	ref := e.InvolvedObject
	if e.Namespace != "ns" || e.Message != "updated to revision 2" || e.Count != 1 || e.Source.Component != "rollouts-controller" ||
		e.ReportingController != "rollouts-controller" || ref.Kind != "Rollout" || ref.APIVersion != "argoproj.io/v1alpha1" ||
		ref.Name != "web" || ref.UID != "u1" || !strings.HasPrefix(e.Name, "web.") {
		t.Fatalf("event %+v", e)
	}
	clk.add(time.Second)
	r.Eventf(rolloutObj(), corev1.EventTypeNormal, "RolloutUpdated", "updated to revision %d", 2)
	drain(ctx, r)
	want := fmt.Sprintf(`patch %s {"count":2,"lastTimestamp":"1970-01-01T00:16:41Z","message":"updated to revision 2"}`, e.Name)
	if got := m.calls[1]; got != want {
		t.Fatalf("repeat: %s\nwant %s", got, want)
	}
	if m.events[e.Name].Count != 2 {
		t.Fatalf("count %d", m.events[e.Name].Count)
	}
	delete(m.events, e.Name) // the API server's TTL expired it
	r.Eventf(rolloutObj(), corev1.EventTypeNormal, "RolloutUpdated", "updated to revision %d", 2)
	drain(ctx, r)
	if got := m.calls[len(m.calls)-1]; got != "create "+e.Name || m.events[e.Name].Count != 3 {
		t.Fatalf("after expiry: %v count %v", m.calls, m.events[e.Name])
	}
}

// The tenth distinct message of one reason within 10 minutes becomes a combined event, which
// later similar events patch; the 26th event about one object is dropped.
func TestRecorderCombinesSimilarAndLimitsSpam(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Unix(1000, 0)}
	m := &memEvents{events: map[string]*corev1.Event{}}
	r := newTestRecorder(m, clk)
	for i := range 12 {
		clk.add(time.Second)
		r.Eventf(rolloutObj(), corev1.EventTypeNormal, "RolloutStepCompleted", "step %d completed", i)
		drain(ctx, r)
	}
	var combined []string
	for _, c := range m.calls {
		if strings.Contains(c, combinedPrefix) || strings.HasPrefix(c, "patch") {
			combined = append(combined, c)
		}
	}
	if len(m.calls) != 12 || len(m.events) != 10 || len(combined) != 2 {
		t.Fatalf("calls %d events %d, combined patches %v; want 9 single events then one combined event patched twice",
			len(m.calls), len(m.events), combined)
	}
	for _, e := range m.events {
		if strings.HasPrefix(e.Message, combinedPrefix) && (e.Message != combinedPrefix+"step 11 completed" || e.Count != 3) {
			t.Fatalf("combined event %q count %d", e.Message, e.Count)
		}
	}
	for i := range 20 {
		r.Eventf(rolloutObj(), corev1.EventTypeNormal, fmt.Sprintf("R%d", i), "m")
	}
	drain(ctx, r)
	if n := len(m.calls); n != 12+13 {
		t.Fatalf("%d writes after a burst of 20 more; want 13 more (a burst of 25 per object and type, then one per 5 minutes)", n-12)
	}
	clk.add(5 * time.Minute)
	r.Eventf(rolloutObj(), corev1.EventTypeNormal, "Later", "m")
	drain(ctx, r)
	if n := len(m.calls); n != 26 {
		t.Fatalf("no write 5 minutes later (%d)", n)
	}
}

func TestRecorderRetriesTransportErrorsOnly(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Unix(1000, 0)}
	m := &memEvents{events: map[string]*corev1.Event{}, failures: map[int]error{
		0: errors.New("connection refused"), 1: errors.New("connection refused"),
		3: apierrors.NewForbidden(schema.GroupResource{Resource: "events"}, "x", errors.New("rbac")),
	}}
	r := newTestRecorder(m, clk)
	r.Eventf(rolloutObj(), corev1.EventTypeNormal, "A", "a")
	drain(ctx, r)
	if len(m.calls) != 3 || len(m.events) != 1 {
		t.Fatalf("calls %v; want two failed creates then one that succeeds", m.calls)
	}
	r.Eventf(rolloutObj(), corev1.EventTypeNormal, "B", "b")
	drain(ctx, r)
	if len(m.calls) != 4 || len(m.events) != 1 {
		t.Fatalf("calls %v; a rejected event is not retried", m.calls)
	}
	r.Eventf(rolloutObj(), "Bogus", "C", "c")
	drain(ctx, r)
	if len(m.calls) != 4 {
		t.Fatalf("an event of an unknown type was written: %v", m.calls)
	}
}

// EventSink writes into the event's namespace, and patches with a strategic merge patch.
func TestEventSinkRequests(t *testing.T) {
	ctx := context.Background()
	c, s := newTestClient(t, func(r *http.Request) (int, string) {
		return 200, `{"kind":"Event","apiVersion":"v1","metadata":{"name":"web.1","namespace":"ns"}}`
	})
	sink := EventSink{Events: c.Events}
	e := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web.1"}}
	if _, err := sink.Create(ctx, e); err != nil {
		t.Fatal(err)
	}
	if got := s.last(t); got.Method != "POST" || got.Path != "/api/v1/namespaces/ns/events" {
		t.Errorf("create: %s %s", got.Method, got.Path)
	}
	if _, err := sink.Patch(ctx, e, []byte(`{"count":2}`)); err != nil {
		t.Fatal(err)
	}
	if got := s.last(t); got.Method != "PATCH" || got.Path != "/api/v1/namespaces/ns/events/web.1" ||
		got.ContentType != "application/strategic-merge-patch+json" || string(got.Body) != `{"count":2}` {
		t.Errorf("patch: %+v", got)
	}
}
