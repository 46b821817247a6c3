package notify

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Failure reasons: the bounded values of the reason label of
// vigil_notify_failures_total.
const (
	reasonRateLimited = "rate_limited"
	reasonServerError = "server_error"
	reasonClientError = "client_error"
	reasonNetwork     = "network"
	reasonTimeout     = "timeout"
)

type metrics struct {
	sent        prometheus.Counter
	failures    *prometheus.CounterVec
	dropped     prometheus.Counter
	retries     prometheus.Counter
	digests     prometheus.Counter
	undelivered prometheus.Counter
}

// newMetrics builds the notifier's metrics and registers them with reg (nil
// registers nowhere). queueLen reports the decisions waiting to be sent.
func newMetrics(reg prometheus.Registerer, queueLen func() float64) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_notify_sent_total",
			Help: "Slack messages delivered (digests included)."}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_notify_failures_total",
			Help: "Failed attempts to send a Slack message, by reason (rate_limited, server_error, client_error, network, timeout)."},
			[]string{"reason"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_notify_dropped_total",
			Help: "Decisions not queued for Slack because the queue was full."}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_notify_retries_total",
			Help: "Retried Slack sends."}),
		digests: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_notify_digests_total",
			Help: "Digest messages sent in place of several decisions."}),
		undelivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_notify_undelivered_total",
			Help: "Slack messages given up: rejected by Slack (client error), out of retries, or unsent at shutdown."}),
	}
	for _, r := range []string{reasonRateLimited, reasonServerError, reasonClientError, reasonNetwork, reasonTimeout} {
		m.failures.WithLabelValues(r)
	}
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_notify_queue_length",
		Help: "Decisions waiting to be sent to Slack."}, queueLen)
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.sent, m.failures, m.dropped, m.retries, m.digests, m.undelivered, queue} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register notify metrics: %w", err)
		}
	}
	return m, nil
}
