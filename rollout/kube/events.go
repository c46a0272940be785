package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/reference"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/klog/v2"
	"k8s.io/utils/lru"
)

// The event recorder's limits, client-go's (tools/record) defaults.
const (
	eventQueueSize     = 1000             // events waiting for the writer; more are dropped
	eventCacheSize     = 4096             // remembered events, similar-event groups and spam buckets
	eventSimilarMax    = 10               // distinct messages per group before they are combined
	eventSimilarWindow = 10 * time.Minute // a group's lifetime without a new event
	eventSpamBurst     = 25               // events per object at once
	eventSpamQPS       = 1.0 / 300        // then one per 5 minutes
	eventMaxTries      = 12
	eventRetryWait     = 10 * time.Second
	combinedPrefix     = "(combined from similar events): "
)

// EventWriter writes core/v1 Events: EventSink over the API server, or a test double.
type EventWriter interface {
	Create(ctx context.Context, e *corev1.Event) (*corev1.Event, error)
	Patch(ctx context.Context, old *corev1.Event, data []byte) (*corev1.Event, error)
}

// EventSink writes Events through Client.Events, in each event's own namespace.
type EventSink struct{ Events Resource }

// Create implements EventWriter.
func (s EventSink) Create(ctx context.Context, e *corev1.Event) (*corev1.Event, error) {
	out := &corev1.Event{}
	return out, s.Events.Create(ctx, e.Namespace, e, out)
}

// Patch implements EventWriter (a strategic merge patch, as client-go's recorder sends).
func (s EventSink) Patch(ctx context.Context, old *corev1.Event, data []byte) (*corev1.Event, error) {
	out := &corev1.Event{}
	return out, s.Events.Patch(ctx, old.Namespace, old.Name, types.StrategicMergePatchType, data, out)
}

// Recorder records core/v1 Events about objects with the behaviour of client-go's event
// recorder and broadcaster (tools/record), which nerve does not link (it pulls in the OpenAPI
// and strategic-merge-patch machinery): Eventf never blocks (a full queue drops the event), a
// repeat of an event (same object, type, reason and message) patches the existing Event's count
// and lastTimestamp, more than 10 distinct messages of one reason for one object within 10
// minutes are combined into one Event "(combined from similar events): <latest message>", each
// object gets a burst of 25 events and then one per 5 minutes, and a failed write is retried up
// to 12 times, 10 s apart, unless the API server rejected the event itself.
type Recorder struct {
	w      EventWriter
	scheme *runtime.Scheme
	source corev1.EventSource
	logger klog.Logger
	queue  chan *corev1.Event
	// Now is the clock (default time.Now); RetryWait the wait between write attempts.
	Now       func() time.Time
	RetryWait time.Duration

	mu      sync.Mutex
	similar *lru.Cache // similar-event key -> *similarGroup
	seen    *lru.Cache // event key -> seenEvent
	spam    *lru.Cache // spam key -> flowcontrol.PassiveRateLimiter
	seeds   [2]maphash.Seed
}

type similarGroup struct {
	messages map[cacheKey]bool // hashes of the distinct messages
	last     time.Time
}

type seenEvent struct {
	count           int32
	first           metav1.Time
	name            string
	resourceVersion string
}

// NewRecorder returns a recorder of events from source about objects whose kinds scheme knows
// (for their reference). Run writes the events.
func NewRecorder(logger klog.Logger, w EventWriter, scheme *runtime.Scheme, source corev1.EventSource) *Recorder {
	return &Recorder{w: w, scheme: scheme, source: source, logger: logger, queue: make(chan *corev1.Event, eventQueueSize),
		Now: time.Now, RetryWait: eventRetryWait,
		similar: lru.New(eventCacheSize), seen: lru.New(eventCacheSize), spam: lru.New(eventCacheSize),
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

// Event records an event about obj.
func (r *Recorder) Event(obj runtime.Object, eventtype, reason, message string) {
	ref, err := reference.GetReference(r.scheme, obj)
	if err != nil {
		r.logger.Error(err, "could not construct reference, will not report event", "eventType", eventtype, "reason", reason, "message", message)
		return
	}
	if eventtype != corev1.EventTypeNormal && eventtype != corev1.EventTypeWarning {
		r.logger.Error(nil, "unsupported event type", "eventType", eventtype)
		return
	}
	t := metav1.NewTime(r.Now())
	ns := ref.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	e := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%v.%x", ref.Name, t.UnixNano()), Namespace: ns},
		InvolvedObject: *ref, Reason: reason, Message: message, FirstTimestamp: t, LastTimestamp: t, Count: 1, Type: eventtype,
		Source: r.source, ReportingController: r.source.Component, ReportingInstance: r.source.Host,
	}
	select {
	case r.queue <- e:
	default:
		r.logger.Error(nil, "unable to record event: too many queued events, dropped event", "reason", reason, "object", klog.KRef(ns, ref.Name))
	}
}

// Eventf records an event about obj with a formatted message.
func (r *Recorder) Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any) {
	r.Event(obj, eventtype, reason, fmt.Sprintf(messageFmt, args...))
}

// Run writes queued events until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-r.queue:
			r.logger.V(4).Info("Event occurred", "object", klog.KRef(e.InvolvedObject.Namespace, e.InvolvedObject.Name),
				"kind", e.InvolvedObject.Kind, "apiVersion", e.InvolvedObject.APIVersion, "type", e.Type, "reason", e.Reason, "message", e.Message)
			out, patch, skip := r.correlate(e)
			if !skip {
				r.writeWithRetries(ctx, out, patch)
			}
		}
	}
}

// cacheKey is a 128-bit hash of a cache key: client-go keys its event caches by the key
// strings themselves (the concatenated source, object, type, reason and message), nerve by
// their hash, which keeps the 4096-entry caches a fraction of the size.
type cacheKey struct{ a, b uint64 }

func (r *Recorder) key(parts ...string) cacheKey {
	var h1, h2 maphash.Hash
	h1.SetSeed(r.seeds[0])
	h2.SetSeed(r.seeds[1])
	for _, p := range parts {
		_, _ = h1.WriteString(p) // never fails
		_, _ = h2.WriteString(p)
	}
	return cacheKey{h1.Sum64(), h2.Sum64()}
}

func (r *Recorder) eventKey(e *corev1.Event) cacheKey {
	o := e.InvolvedObject
	return r.key(e.Source.Component, e.Source.Host, o.Kind, o.Namespace, o.Name, o.FieldPath, string(o.UID), o.APIVersion, e.Type, e.Reason, e.Message)
}

func (r *Recorder) spamKey(e *corev1.Event) cacheKey {
	o := e.InvolvedObject
	return r.key(e.Source.Component, e.Source.Host, o.Kind, o.Namespace, o.Name, string(o.UID), o.APIVersion, e.Type)
}

func (r *Recorder) similarKey(e *corev1.Event) cacheKey {
	o := e.InvolvedObject
	return r.key(e.Source.Component, e.Source.Host, o.Kind, o.Namespace, o.Name, string(o.UID), o.APIVersion, e.Type, e.Reason,
		e.ReportingController, e.ReportingInstance)
}

// correlate combines similar events, turns a repeat into a patch of the earlier Event and
// applies the per-object rate limit (skip).
func (r *Recorder) correlate(e *corev1.Event) (out *corev1.Event, patch []byte, skip bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, key := r.combine(e)
	out = e.DeepCopy()
	if v, ok := r.seen.Get(key); ok {
		s := v.(seenEvent)
		out.Name, out.ResourceVersion, out.FirstTimestamp, out.Count = s.name, s.resourceVersion, s.first, s.count+1
		patch, _ = json.Marshal(struct {
			Count         int32       `json:"count"`
			LastTimestamp metav1.Time `json:"lastTimestamp"`
			Message       string      `json:"message"`
		}{out.Count, out.LastTimestamp, out.Message})
	}
	r.seen.Add(key, seenEvent{count: out.Count, first: out.FirstTimestamp, name: out.Name, resourceVersion: out.ResourceVersion})
	var lim flowcontrol.PassiveRateLimiter
	if v, ok := r.spam.Get(r.spamKey(out)); ok {
		lim = v.(flowcontrol.PassiveRateLimiter)
	} else {
		lim = flowcontrol.NewTokenBucketPassiveRateLimiterWithClock(eventSpamQPS, eventSpamBurst, passiveClock(r.Now))
	}
	r.spam.Add(r.spamKey(out), lim)
	return out, patch, !lim.TryAccept()
}

// combine returns e, or once a group has more than eventSimilarMax distinct messages, a new
// combined event keyed by its group (so that later ones patch it); and the event's cache key.
func (r *Recorder) combine(e *corev1.Event) (*corev1.Event, cacheKey) {
	now := r.Now()
	gk := r.similarKey(e)
	g := &similarGroup{messages: map[cacheKey]bool{}}
	if v, ok := r.similar.Get(gk); ok && now.Sub(v.(*similarGroup).last) <= eventSimilarWindow {
		g = v.(*similarGroup)
	}
	g.messages[r.key(e.Message)] = true
	g.last = now
	r.similar.Add(gk, g)
	if len(g.messages) < eventSimilarMax {
		return e, r.eventKey(e)
	}
	for m := range g.messages { // keep the group at the limit
		delete(g.messages, m)
		break
	}
	t := metav1.NewTime(now)
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%v.%x", e.InvolvedObject.Name, t.UnixNano()), Namespace: e.Namespace},
		Count:          1,
		FirstTimestamp: t, LastTimestamp: t, InvolvedObject: e.InvolvedObject,
		Message: combinedPrefix + e.Message, Type: e.Type, Reason: e.Reason, Source: e.Source,
	}, gk
}

// writeWithRetries writes e (a patch of the earlier Event when patch is set, a create when not
// or when that Event is gone), retrying transport errors.
func (r *Recorder) writeWithRetries(ctx context.Context, e *corev1.Event, patch []byte) {
	for tries := 1; ; tries++ {
		if r.write(ctx, e, patch) {
			return
		}
		if tries >= eventMaxTries {
			r.logger.Error(nil, "unable to write event (retry limit exceeded)", "reason", e.Reason, "object", klog.KRef(e.Namespace, e.InvolvedObject.Name))
			return
		}
		wait := r.RetryWait
		if tries == 1 { // spread the first retry so that clients do not retry in step
			wait = time.Duration(float64(wait) * rand.Float64())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// write makes one attempt; it reports whether the event is done with (written, or rejected).
func (r *Recorder) write(ctx context.Context, e *corev1.Event, patch []byte) bool {
	var out *corev1.Event
	var err error
	if patch != nil {
		out, err = r.w.Patch(ctx, e, patch)
	}
	if patch == nil || apierrors.IsNotFound(err) {
		c := e.DeepCopy()
		c.ResourceVersion = ""
		out, err = r.w.Create(ctx, c)
	}
	if err == nil {
		r.mu.Lock()
		r.seen.Add(r.eventKey(out), seenEvent{count: out.Count, first: out.FirstTimestamp, name: out.Name, resourceVersion: out.ResourceVersion})
		r.mu.Unlock()
		return true
	}
	var rce *rest.RequestConstructionError
	switch {
	case errors.As(err, &rce):
		r.logger.Error(err, "unable to construct event (will not retry)", "reason", e.Reason)
		return true
	case isStatus(err):
		if apierrors.IsAlreadyExists(err) || apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			r.logger.V(5).Info("server rejected event (will not retry)", "reason", e.Reason, "err", err)
		} else {
			r.logger.Error(err, "server rejected event (will not retry)", "reason", e.Reason)
		}
		return true
	}
	r.logger.Error(err, "unable to write event (may retry after sleeping)", "reason", e.Reason)
	return false
}

func isStatus(err error) bool {
	var se *apierrors.StatusError
	return errors.As(err, &se)
}

// passiveClock is the recorder's clock for the spam filter's token buckets.
type passiveClock func() time.Time

func (c passiveClock) Now() time.Time                  { return c() }
func (c passiveClock) Since(t time.Time) time.Duration { return c().Sub(t) }
