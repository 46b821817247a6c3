package respond

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	bans       *prometheus.CounterVec
	unbans     *prometheus.CounterVec
	alerts     *prometheus.CounterVec
	suppressed *prometheus.CounterVec
	shadow     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, r *Responder) *metrics {
	m := &metrics{
		bans: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_bans_total",
			Help: "Bans decided, by detector (manual for operators)."}, []string{"detector"}),
		unbans: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_unbans_total",
			Help: "Bans lifted, by reason (expired or manual)."}, []string{"reason"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_global_alerts_total",
			Help: "Global anomaly alerts and recoveries (and circuit-breaker alerts), by action and detector."},
			[]string{"action", "detector"}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_bans_suppressed_total",
			Help: "Ban findings not acted on, by reason (allowlisted, trusted_proxy, circuit_breaker)."},
			[]string{"reason"}),
		shadow: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_shadow_bans_total",
			Help: "Would-be bans in shadow mode (not enforced)."}),
	}
	active := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_bans_active",
		Help: "Bans currently in force (shadow bans excluded)."}, func() float64 {
		n := 0
		for _, b := range r.Bans() {
			if !b.Shadow {
				n++
			}
		}
		return float64(n)
	})
	for _, why := range []string{"allowlisted", "trusted_proxy", "circuit_breaker"} {
		m.suppressed.WithLabelValues(why)
	}
	if reg != nil {
		reg.MustRegister(m.bans, m.unbans, m.alerts, m.suppressed, m.shadow, active)
	}
	return m
}

func (m *metrics) decision(d *Decision) {
	switch d.Action {
	case ActionBan:
		if !d.Shadow {
			m.bans.WithLabelValues(d.Detector).Inc()
		}
	case ActionUnban:
		reason := "expired"
		if d.Manual {
			reason = "manual"
		}
		m.unbans.WithLabelValues(reason).Inc()
	case ActionAlert, ActionRecover:
		m.alerts.WithLabelValues(string(d.Action), d.Detector).Inc()
	}
}
