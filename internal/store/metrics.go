package store

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Write operations, the values of the op label.
const (
	opPut    = "put"
	opDelete = "delete"
)

// metrics are the store's Prometheus metrics; the op label takes two values.
type metrics struct {
	writes   *prometheus.CounterVec
	errors   *prometheus.CounterVec
	duration prometheus.Histogram
	records  prometheus.Gauge
}

// newMetrics creates the metrics and registers them on reg (nil: not
// registered).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_ledger_writes_total",
			Help: "Ban ledger writes committed to disk, by operation (put, delete).",
		}, []string{"op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_ledger_write_errors_total",
			Help: "Ban ledger writes that failed, by operation (put, delete).",
		}, []string{"op"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigil_ledger_write_seconds",
			Help:    "Duration of ban ledger writes, including the sync to disk.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms .. 4 s
		}),
		records: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_ledger_records",
			Help: "Records (offense histories and bans) in the ban ledger.",
		}),
	}
	for _, op := range []string{opPut, opDelete} {
		m.writes.WithLabelValues(op)
		m.errors.WithLabelValues(op)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.writes, m.errors, m.duration, m.records} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register ledger metrics: %w", err)
		}
	}
	return m, nil
}

// observe records one write that started at start and ended with *err.
// Use it as `defer m.observe(op, time.Now(), &err)` with a named result.
func (m *metrics) observe(op string, start time.Time, err *error) {
	if *err != nil {
		m.errors.WithLabelValues(op).Inc()
		return
	}
	m.duration.Observe(time.Since(start).Seconds())
	m.writes.WithLabelValues(op).Inc()
}
