package proxy

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Backend label values.
const (
	BackendStable = "stable"
	BackendCanary = "canary"
	BackendNone   = "none" // client-side errors before a backend was chosen
)

// Error reasons (the bounded values of mllp_errors_total's reason label).
const (
	ReasonConnect        = "connect"         // upstream connect failed (message fell back or connection closed)
	ReasonTimeout        = "timeout"         // no ACK within the ACK timeout
	ReasonFraming        = "framing"         // client frame broken: EOF/timeout inside a frame, FS without CR
	ReasonOversize       = "oversize"        // client frame above the size cap
	ReasonACKMismatch    = "ack_mismatch"    // ACK MSA-2 != MSH-10, or an unreadable answer
	ReasonNAK            = "nak"             // backend answered AE/AR/CE/CR or an R2 NAK
	ReasonNotHL7         = "not_hl7"         // client frame empty, not MSH, or an R2 commit block
	ReasonUpstreamClosed = "upstream_closed" // upstream failed while a message was in flight
)

// Reasons lists every error reason (all are initialised to 0).
func Reasons() []string {
	return []string{ReasonConnect, ReasonTimeout, ReasonFraming, ReasonOversize, ReasonACKMismatch,
		ReasonNAK, ReasonNotHL7, ReasonUpstreamClosed}
}

// ackCodes are the label values of mllp_acks_total.
func ackCodes() []string {
	return []string{"AA", "AE", "AR", "CA", "CE", "CR", "commit_ack", "commit_nak", "other"}
}

// LatencyBuckets has 0.005 as an exact boundary and finer buckets below it.
func LatencyBuckets() []float64 {
	return []float64{.0001, .00025, .0005, .001, .002, .003, .004, .005, .0075, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
}

// Metrics holds the proxy's collectors.
type Metrics struct {
	received, errors, acks, fallbacks, mirror, outOfFrame, resyncs *prometheus.CounterVec
	latency                                                        *prometheus.HistogramVec
	inFlight, conns, weight, generation, endpoints                 *prometheus.GaugeVec
	mu                                                             sync.Mutex
	services                                                       map[string]*svcMetrics
}

// NewMetrics creates and registers the collectors on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	sb := []string{"service", "backend"}
	m := &Metrics{
		received:   counter("mllp_messages_received_total", "Messages received from clients and routed, by backend.", sb...),
		errors:     counter("mllp_errors_total", "Errors by bounded reason.", "service", "backend", "reason"),
		acks:       counter("mllp_acks_total", "ACKs relayed, by MSA-1 code.", "service", "backend", "code"),
		fallbacks:  counter("mllp_fallbacks_total", "Messages sent to the other backend after a connect failure, by the backend that failed.", sb...),
		mirror:     counter("mllp_mirror_total", "Mirrored copies by result (sent, dropped, error).", "service", "result"),
		outOfFrame: counter("mllp_out_of_frame_bytes_total", "Bytes outside MLLP frames skipped.", "service"),
		resyncs:    counter("mllp_resyncs_total", "Start blocks found inside an open frame (partial frame dropped).", "service"),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mllp_ack_latency_seconds",
			Help: "Time from a complete client frame to the relayed ACK.", Buckets: LatencyBuckets()}, sb),
		inFlight:   gauge("mllp_in_flight", "Messages forwarded and awaiting their ACK.", "service"),
		conns:      gauge("mllp_open_connections", "Open connections by side (client, upstream).", "service", "side"),
		weight:     gauge("mllp_canary_weight", "Applied canary weight in percent.", "service"),
		generation: gauge("mllp_route_generation", "Applied route generation.", "service"),
		endpoints:  gauge("mllp_backend_endpoints", "Resolved backend endpoints.", sb...),
		services:   map[string]*svcMetrics{},
	}
	for _, c := range []prometheus.Collector{m.received, m.errors, m.acks, m.fallbacks, m.mirror, m.outOfFrame,
		m.resyncs, m.latency, m.inFlight, m.conns, m.weight, m.generation, m.endpoints} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func counter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func gauge(name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
}

// backend indexes: 0 stable, 1 canary, 2 none.
const (
	idxStable = 0
	idxCanary = 1
	idxNone   = 2
)

func backendName(i int) string {
	switch i {
	case idxStable:
		return BackendStable
	case idxCanary:
		return BackendCanary
	}
	return BackendNone
}

// svcMetrics caches the children of one service so the hot path does no label lookups.
type svcMetrics struct {
	service    string
	received   [2]prometheus.Counter
	latency    [2]prometheus.Observer
	errors     [3]map[string]prometheus.Counter
	acks       [2]map[string]prometheus.Counter
	fallbacks  [2]prometheus.Counter
	mirror     map[string]prometheus.Counter
	outOfFrame prometheus.Counter
	resyncs    prometheus.Counter
	inFlight   prometheus.Gauge
	clientConn prometheus.Gauge
	upConn     prometheus.Gauge
}

// forService returns (creating and zero-initialising) the children for service.
func (m *Metrics) forService(service string) *svcMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.services[service]; ok {
		return s
	}
	s := &svcMetrics{service: service, mirror: map[string]prometheus.Counter{}}
	for i := range 3 {
		s.errors[i] = map[string]prometheus.Counter{}
		for _, r := range Reasons() {
			s.errors[i][r] = m.errors.WithLabelValues(service, backendName(i), r)
		}
	}
	for i := range 2 {
		b := backendName(i)
		s.received[i] = m.received.WithLabelValues(service, b)
		s.latency[i] = m.latency.WithLabelValues(service, b)
		s.fallbacks[i] = m.fallbacks.WithLabelValues(service, b)
		s.acks[i] = map[string]prometheus.Counter{}
		for _, c := range ackCodes() {
			s.acks[i][c] = m.acks.WithLabelValues(service, b, c)
		}
		m.endpoints.WithLabelValues(service, b)
	}
	for _, r := range []string{"sent", "dropped", "error"} {
		s.mirror[r] = m.mirror.WithLabelValues(service, r)
	}
	s.outOfFrame = m.outOfFrame.WithLabelValues(service)
	s.resyncs = m.resyncs.WithLabelValues(service)
	s.inFlight = m.inFlight.WithLabelValues(service)
	s.clientConn = m.conns.WithLabelValues(service, "client")
	s.upConn = m.conns.WithLabelValues(service, "upstream")
	m.services[service] = s
	return s
}

func (s *svcMetrics) err(backend int, reason string) { s.errors[backend][reason].Inc() }

func (s *svcMetrics) ack(backend int, code []byte) {
	c, ok := s.acks[backend][string(code)]
	if !ok {
		c = s.acks[backend]["other"]
	}
	c.Inc()
}

// setRoute records the applied route's gauges.
func (m *Metrics) setRoute(service string, weightPercent float64, generation int64, stable, canary int) {
	m.weight.WithLabelValues(service).Set(weightPercent)
	m.generation.WithLabelValues(service).Set(float64(generation))
	m.endpoints.WithLabelValues(service, BackendStable).Set(float64(stable))
	m.endpoints.WithLabelValues(service, BackendCanary).Set(float64(canary))
}
