package enforce

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	latency         *prometheus.HistogramVec
	applied         prometheus.Counter
	errors          *prometheus.CounterVec
	overflow        prometheus.Counter
	runs            prometheus.Counter
	repairs         prometheus.Counter
	reconcileErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_enforce_latency_seconds",
			Help:    "Time from a decision to its firewall change being applied, by action.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"action"}),
		applied: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_enforce_applied_total",
			Help: "Bans and unbans applied to the firewall."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_enforce_errors_total",
			Help: "Firewall changes that failed (repaired by reconciliation), by operation."}, []string{"op"}),
		overflow: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_enforce_queue_overflows_total",
			Help: "Decisions that found the firewall queue full (applied by reconciliation instead)."}),
		runs: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_reconcile_runs_total",
			Help: "Reconciliations of the firewall with the ban ledger."}),
		repairs: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_reconcile_repairs_total",
			Help: "Firewall entries added or removed by reconciliation after start (drift)."}),
		reconcileErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_reconcile_errors_total",
			Help: "Reconciliations that failed."}),
	}
	for _, op := range []string{"block", "unblock"} {
		m.errors.WithLabelValues(op)
	}
	if reg != nil {
		reg.MustRegister(m.latency, m.applied, m.errors, m.overflow, m.runs, m.repairs, m.reconcileErrors)
	}
	return m
}
