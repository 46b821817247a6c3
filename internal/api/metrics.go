package api

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec // by handler (route) and status code
	denied   *prometheus.CounterVec // by reason
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_api_requests_total",
			Help: "API requests served, by handler (route) and HTTP status code."}, []string{"handler", "code"}),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_api_auth_denied_total",
			Help: "API requests refused, by reason: no_token_configured, bad_token (state-changing calls over TCP), foreign_host (Host header not local on a loopback listener)."},
			[]string{"reason"}),
	}
	for _, r := range []string{"no_token_configured", "bad_token", "foreign_host"} {
		m.denied.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.denied} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register api metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) request(handler string, code int) {
	m.requests.WithLabelValues(handler, strconv.Itoa(code)).Inc()
}
