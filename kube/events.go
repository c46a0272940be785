package kube

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// EventSink writes core/v1 Events for client-go's event broadcaster (record.EventSink), in the
// event's own namespace, as the typed clientset's sink does. The sink's calls carry ctx (the
// broadcaster's interface has none).
type EventSink struct {
	ctx    context.Context
	events Resource
}

// NewEventSink returns a sink writing through events (Client.Events) with ctx.
func NewEventSink(ctx context.Context, events Resource) *EventSink {
	return &EventSink{ctx: ctx, events: events}
}

// Create implements record.EventSink.
func (s *EventSink) Create(e *corev1.Event) (*corev1.Event, error) {
	out := &corev1.Event{}
	return out, s.events.Create(s.ctx, e.Namespace, e, out)
}

// Update implements record.EventSink.
func (s *EventSink) Update(e *corev1.Event) (*corev1.Event, error) {
	out := &corev1.Event{}
	return out, s.events.Update(s.ctx, e.Namespace, e.Name, "", e, out)
}

// Patch implements record.EventSink (a strategic merge patch of the series count and times).
func (s *EventSink) Patch(old *corev1.Event, data []byte) (*corev1.Event, error) {
	out := &corev1.Event{}
	return out, s.events.Patch(s.ctx, old.Namespace, old.Name, types.StrategicMergePatchType, data, out)
}
