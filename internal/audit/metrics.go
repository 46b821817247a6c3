package audit

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// logMetrics are the audit log's metrics; the event label takes the fixed
// set of record kinds.
type logMetrics struct {
	records *prometheus.CounterVec
	errors  prometheus.Counter
	reopens prometheus.Counter
}

func newLogMetrics(reg prometheus.Registerer) (*logMetrics, error) {
	m := &logMetrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_audit_records_total",
			Help: "Records written to the audit log, by event kind.",
		}, []string{"event"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_audit_errors_total",
			Help: "Audit records that could not be written (and failed reopens); each is also a gap in seq.",
		}),
		reopens: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_audit_reopens_total",
			Help: "Times the audit log file was reopened (rotation detected or Reopen on SIGHUP).",
		}),
	}
	for _, k := range append(decisionKinds(), eventKinds()...) {
		m.records.WithLabelValues(k)
	}
	return m, register(reg, "audit log", m.records, m.errors, m.reopens)
}

// snapshotMetrics are the firewall snapshots' metrics.
type snapshotMetrics struct {
	taken  prometheus.Counter
	errors prometheus.Counter
}

func newSnapshotMetrics(reg prometheus.Registerer) (*snapshotMetrics, error) {
	m := &snapshotMetrics{
		taken: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_snapshots_total",
			Help: "Firewall snapshots written.",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_snapshot_errors_total",
			Help: "Firewall snapshots that could not be taken or written.",
		}),
	}
	return m, register(reg, "snapshot", m.taken, m.errors)
}

// register registers cs on reg (nil: nothing to do).
func register(reg prometheus.Registerer, what string, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register %s metrics: %w", what, err)
		}
	}
	return nil
}
