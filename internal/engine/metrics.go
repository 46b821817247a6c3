package engine

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/parse"
)

// metrics are the engine's Prometheus metrics. Per-line counts are kept in
// plain fields by the dispatcher and added here once per chunk.
type metrics struct {
	lines      prometheus.Counter
	events     prometheus.Counter
	rejected   []prometheus.Counter // by parse reason, then no_client
	truncated  prometheus.Counter
	late       prometheus.Counter
	future     prometheus.Counter
	lag        prometheus.Gauge
	rps        prometheus.Gauge
	findings   *prometheus.CounterVec
	suspicious *prometheus.CounterVec
	evictions  prometheus.Counter
	mean       *prometheus.GaugeVec
	stddev     *prometheus.GaugeVec
	errRate    prometheus.Gauge
	learning   prometheus.Gauge
	clients    []atomic.Int64
	reported   struct {
		lines, events, truncated, late, future uint64
		rejected                               []uint64
	}
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		lines: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_lines_read_total",
			Help: "Log lines read by the engine, including rejected ones."}),
		events: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_requests_total",
			Help: "Requests (parsed lines attributed to a client) processed."}),
		truncated: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_fields_truncated_total",
			Help: "Requests with at least one field cut to the field size limit."}),
		late: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_events_late_total",
			Help: "Requests older than the event clock, counted at the clock."}),
		future: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_events_future_total",
			Help: "Requests timestamped ahead of the wall clock (live mode), counted at the wall clock."}),
		rps: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_global_requests_per_second",
			Help: "Average requests per second over the last 60 s of event time."}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_lag_seconds",
			Help: "Wall time minus the event time of the latest request (live mode)."}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_findings_total",
			Help: "Findings by detector and rule (or condition)."}, []string{"detector", "rule"}),
		suspicious: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_suspicious_requests_total",
			Help: "Requests matched by a content detector, by detector and class."}, []string{"detector", "class"}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_clients_evicted_total",
			Help: "Tracked clients evicted because the client table was full."}),
		mean: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_baseline_mean",
			Help: "Baseline mean in effect: requests/s for scope=global, requests per 60s for scope=client."}, []string{"scope"}),
		stddev: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_baseline_stddev",
			Help: "Baseline standard deviation in effect (units as vigil_baseline_mean)."}, []string{"scope"}),
		errRate: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_baseline_error_ratio",
			Help: "Baseline share of 4xx/5xx responses in effect."}),
		learning: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_learning",
			Help: "1 while the baseline is learning (rate bans suspended), 0 when enforcing."}),
		clients: make([]atomic.Int64, 1024+1),
	}
	rej := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_lines_rejected_total",
		Help: "Log lines rejected, by reason."}, []string{"reason"})
	for _, r := range parse.Reasons() {
		m.rejected = append(m.rejected, rej.WithLabelValues(r.Reason))
	}
	m.rejected = append(m.rejected, rej.WithLabelValues("no_client"))
	m.reported.rejected = make([]uint64, len(m.rejected))
	tracked := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_clients_tracked",
		Help: "Clients currently tracked by the engine."}, func() float64 { return float64(m.trackedTotal()) })
	if reg != nil {
		reg.MustRegister(m.lines, m.events, rej, m.truncated, m.late, m.future, m.lag, m.rps, m.findings,
			m.suspicious, m.evictions, m.mean, m.stddev, m.errRate, m.learning, tracked)
	}
	return m
}

// flushDispatcher adds the dispatcher's counts since the last flush.
func (m *metrics) flushDispatcher(d *dispatcher) {
	r := &m.reported
	m.lines.Add(float64(d.lines - r.lines))
	m.events.Add(float64(d.events - r.events))
	m.truncated.Add(float64(d.truncated - r.truncated))
	m.late.Add(float64(d.late - r.late))
	m.future.Add(float64(d.future - r.future))
	r.lines, r.events, r.truncated, r.late, r.future = d.lines, d.events, d.truncated, d.late, d.future
	for i, v := range d.rejected {
		if v != r.rejected[i] {
			m.rejected[i].Add(float64(v - r.rejected[i]))
			r.rejected[i] = v
		}
	}
}

func (m *metrics) baseline(s *baseline.Snapshot) {
	m.mean.WithLabelValues("global").Set(s.Global.Mean)
	m.mean.WithLabelValues("client").Set(s.Client.Mean)
	m.stddev.WithLabelValues("global").Set(s.Global.Stddev)
	m.stddev.WithLabelValues("client").Set(s.Client.Stddev)
	m.errRate.Set(s.Global.ErrorRate)
	if s.Learning {
		m.learning.Set(1)
	} else {
		m.learning.Set(0)
	}
}

func (m *metrics) finding(f *detect.Finding) {
	m.findings.WithLabelValues(f.Detector, f.Rule).Inc()
	switch f.Detector {
	case "signature", "useragent", "probe":
		m.suspicious.WithLabelValues(f.Detector, string(f.Class)).Inc()
	}
}

func (m *metrics) trackedTotal() int {
	var n int64
	for i := range m.clients {
		n += m.clients[i].Load()
	}
	return int(n)
}

func (m *metrics) tracked(shard, n int) {
	if shard < len(m.clients) {
		m.clients[shard].Store(int64(n))
	}
}
