package launcher

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

type fakeStarter struct {
	mu      sync.Mutex
	next    int
	started map[string]Spec
	stopped []string
}

type fakeHandle struct {
	s    *fakeStarter
	pod  string
	addr string
}

func (f *fakeStarter) Start(_ context.Context, spec Spec) (Handle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	f.started[spec.Pod] = spec
	return &fakeHandle{s: f, pod: spec.Pod, addr: fmt.Sprintf("127.0.0.1:%d", 40000+f.next)}, nil
}

func (h *fakeHandle) Addr() string { return h.addr }
func (h *fakeHandle) Stop() error {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.stopped = append(h.s.stopped, h.pod)
	return nil
}

func pod(name, ip, hash string, ready bool, env ...corev1.EnvVar) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "l", HashLabel: hash}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Env: env}}},
		Status:     corev1.PodStatus{PodIP: ip, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
}

func readMap(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReconcile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "map.json")
	fs := &fakeStarter{started: map[string]Spec{}}
	l := New(Config{Namespace: "ns", Port: 2575, AddressMap: path, DrainDelay: 2 * time.Second}, nil, fs, t.Logf)
	now := time.Unix(1000, 0)
	bad := []corev1.EnvVar{{Name: EnvAckDelayMS, Value: "20"}, {Name: EnvErrorRate, Value: "0.5"}, {Name: EnvVersion, Value: "v2-bad"}}
	pods := []*corev1.Pod{pod("a", "10.244.0.1", "h1", true), pod("b", "10.244.0.2", "h2", true, bad...), pod("c", "10.244.0.3", "h2", false)}
	if err := l.Reconcile(t.Context(), pods, now); err != nil {
		t.Fatal(err)
	}
	m := readMap(t, path)
	if len(m) != 2 || m["10.244.0.1:2575"] == "" || m["10.244.0.2:2575"] == "" {
		t.Fatalf("map %v", m)
	}
	if s := fs.started["b"]; s.AckDelayMS != 20 || s.ErrorRate != 0.5 || s.Version != "v2-bad" || s.Hash != "h2" {
		t.Fatalf("spec %+v", s)
	}
	// a goes: it keeps serving (and stays in the map) for the drain delay.
	if err := l.Reconcile(t.Context(), pods[1:], now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(fs.stopped) != 0 || len(readMap(t, path)) != 2 {
		t.Fatal("stopped before the drain delay")
	}
	if err := l.Reconcile(t.Context(), pods[1:], now.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(fs.stopped) != 1 || fs.stopped[0] != "a" || len(readMap(t, path)) != 1 {
		t.Fatalf("stopped %v map %v", fs.stopped, readMap(t, path))
	}
}

func TestRunWithFakeClient(t *testing.T) {
	path := filepath.Join(t.TempDir(), "map.json")
	client := fake.NewClientset(pod("a", "10.244.0.1", "h1", true))
	fs := &fakeStarter{started: map[string]Spec{}}
	l := New(Config{Namespace: "ns", Selector: "app=l", Port: 2575, AddressMap: path}, client, fs, t.Logf)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(l.Backends()) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("listener not started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(fs.stopped) != 1 || len(readMap(t, path)) != 0 {
		t.Fatalf("not cleaned up: stopped %v", fs.stopped)
	}
}
