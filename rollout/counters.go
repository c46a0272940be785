package rollout

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// counterSet is a counter family for many short-lived label sets (one per object, verb and
// reason): a CounterVec keeps a metric, a hash bucket and a protobuf label pair per label per
// series, several hundred bytes each; counterSet keeps one string key and a float per series and
// builds the metrics only when scraped.
type counterSet struct {
	desc   *prometheus.Desc
	labels int
	mu     sync.Mutex
	series map[string]float64
}

const labelSep = "\xff" // never in a label value the API server accepts

func newCounterSet(name, help string, labels ...string) *counterSet {
	return &counterSet{desc: prometheus.NewDesc(name, help, labels, nil), labels: len(labels), series: map[string]float64{}}
}

func (c *counterSet) inc(values ...string) {
	if len(values) != c.labels {
		return // a programming error; client_golang would panic
	}
	k := strings.Join(values, labelSep)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.series[k]++
}

// value is the count of one label set (0 when it has none).
func (c *counterSet) value(values ...string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.series[strings.Join(values, labelSep)]
}

// forget drops every series whose first two labels are ns and name (an object's series).
func (c *counterSet) forget(ns, name string) {
	prefix := ns + labelSep + name + labelSep
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.series {
		if strings.HasPrefix(k, prefix) {
			delete(c.series, k)
		}
	}
}

// Describe implements prometheus.Collector.
func (c *counterSet) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *counterSet) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	metrics := make([]prometheus.Metric, 0, len(c.series))
	for k, v := range c.series {
		metrics = append(metrics, prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, v, strings.Split(k, labelSep)...))
	}
	c.mu.Unlock()
	for _, m := range metrics {
		ch <- m
	}
}
