package firewall

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Operation names, the values of the op label.
const (
	opSetup    = "setup"
	opBlock    = "block"
	opUnblock  = "unblock"
	opSync     = "sync"
	opSnapshot = "snapshot"
	opTeardown = "teardown"
)

// metrics are a backend's Prometheus metrics. Labels are bounded: op,
// result, family and backend take a handful of fixed values.
type metrics struct {
	ops     *prometheus.CounterVec
	latency *prometheus.HistogramVec
	entries *prometheus.GaugeVec
	setFull *prometheus.CounterVec
	info    *prometheus.GaugeVec
	backend string
}

// newMetrics creates and registers the metrics of backend on reg (nil: not
// registered). mode is the iptables variant ("nf_tables", "legacy" or "" when
// not applicable).
func newMetrics(reg prometheus.Registerer, backend, mode string) (*metrics, error) {
	m := &metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_firewall_operations_total",
			Help: "Firewall operations by operation (setup, block, unblock, sync, snapshot, teardown) and result (ok, error).",
		}, []string{"op", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vigil_firewall_operation_duration_seconds",
			Help:    "Duration of firewall operations, including the external commands they run.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14), // 1 ms .. 8 s
		}, []string{"op"}),
		entries: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_firewall_entries",
			Help: "Ban entries vigil owns in the kernel (rules or set entries) by address family, as of the last operation.",
		}, []string{"family"}),
		setFull: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_firewall_set_full_total",
			Help: "Times an ipset refused entries because it reached maxelem (raise firewall.maxelem).",
		}, []string{"family"}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_firewall_backend_info",
			Help: "The firewall backend in use and the iptables variant (nf_tables or legacy); always 1.",
		}, []string{"backend", "iptables_mode"}),
		backend: backend,
	}
	for _, op := range []string{opSetup, opBlock, opUnblock, opSync, opSnapshot, opTeardown} {
		m.ops.WithLabelValues(op, "ok")
		m.ops.WithLabelValues(op, "error")
	}
	for _, f := range families() {
		m.entries.WithLabelValues(f.String())
		m.setFull.WithLabelValues(f.String())
	}
	m.info.WithLabelValues(backend, mode).Set(1)
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.ops, m.latency, m.entries, m.setFull, m.info} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register firewall metrics: %w", err)
		}
	}
	return m, nil
}

// observe records one operation that started at start and ended with *err.
// Use it as `defer m.observe(op, time.Now(), &err)` with a named result.
func (m *metrics) observe(op string, start time.Time, err *error) {
	m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	result := "ok"
	if *err != nil {
		result = "error"
	}
	m.ops.WithLabelValues(op, result).Inc()
}

// setEntries sets the entries gauge of family f.
func (m *metrics) setEntries(f family, n int) {
	m.entries.WithLabelValues(f.String()).Set(float64(n))
}
