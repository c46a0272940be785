package cli

// This file is the dashboard's only reader: it adapts the shared read side (view.Reader) to
// dashboard.Source and sends the dashboard's patches.

import (
	"context"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/dynamic"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/dashboard"
	"github.com/nerve-rollouts/nerve/view"
)

// maxEvents is how many events a rollout page shows.
const maxEvents = 20

// dashboardSource reads for the dashboard and sends its patches.
type dashboardSource struct {
	read view.Reader
	dyn  dynamic.Interface
	kube *Kube
}

func (s *dashboardSource) in(ns string) *clients {
	return &clients{dyn: s.dyn, kube: s.kube, ns: ns, read: s.read}
}

// List builds the view of every rollout of namespaces (nil: all) from its ReplicaSets and runs.
func (s *dashboardSource) List(ctx context.Context, namespaces []string) ([]view.Rollout, error) {
	if namespaces == nil {
		namespaces = []string{metav1.NamespaceAll}
	}
	var out []view.Rollout
	for _, ns := range namespaces {
		items, err := s.read.Overview(ctx, ns)
		if err != nil {
			return out, err
		}
		out = append(out, items...)
	}
	return out, nil
}

// Rollout reads the rollout's tree, then its runs, routers and events concurrently.
func (s *dashboardSource) Rollout(ctx context.Context, ns, name string) (dashboard.Detail, error) {
	snap, err := s.read.Snapshot(ctx, ns, name)
	if err != nil {
		return dashboard.Detail{}, err
	}
	ro := snap.Object
	d := dashboard.Detail{View: snap.View, Object: ro}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		d.Runs, _, err = s.read.AnalysisRuns(gctx, ns, ro.UID)
		return err
	})
	g.Go(func() error {
		d.Traffic = s.read.TrafficOf(gctx, ro)
		return nil
	})
	g.Go(func() error {
		var err error
		d.Events, err = s.events(gctx, ro)
		return err
	})
	return d, g.Wait()
}

func (s *dashboardSource) events(ctx context.Context, ro *v1alpha1.Rollout) ([]dashboard.Event, error) {
	sel := fields.Set{"involvedObject.uid": string(ro.UID)}.AsSelector().String()
	list := &corev1.EventList{}
	if err := s.kube.Events.List(ctx, ro.Namespace, metav1.ListOptions{FieldSelector: sel}, list); err != nil {
		return nil, err
	}
	out := make([]dashboard.Event, 0, len(list.Items))
	for _, e := range list.Items {
		out = append(out, dashboard.Event{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: e.Count, Last: lastSeen(e)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Last.After(out[j].Last) })
	return out[:min(len(out), maxEvents)], nil
}

func lastSeen(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// Patch sends an action's patch.
func (s *dashboardSource) Patch(ctx context.Context, ns, name string, p actions.Patch) error {
	return s.in(ns).apply(ctx, name, p)
}
