package daemon

import (
	"golang.org/x/sys/unix"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	ready      prometheus.Gauge
	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, version string) *metrics {
	m := &metrics{
		ready: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_ready",
			Help: "1 when the firewall has been reconciled and the engine is running."}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_config_last_reload_successful",
			Help: "1 if the last configuration reload succeeded (or none was attempted), 0 if it failed."}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load."}),
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_build_info", Help: "vigil's version.",
		ConstLabels: prometheus.Labels{"version": version}})
	info.Set(1)
	m.reloadOK.Set(1)
	reg.MustRegister(m.ready, m.reloadOK, m.reloadTime, info)
	return m
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, as systemd wants it
// with RELOADING=1.
func monotonicUsec() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano() / 1000
}
