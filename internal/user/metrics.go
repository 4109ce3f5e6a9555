package user

import "github.com/prometheus/client_golang/prometheus"

// metrics are the sign-in's Prometheus collectors.
type metrics struct {
	attempts *prometheus.CounterVec
	locks    *prometheus.CounterVec
}

// newMetrics makes the collectors and registers them with reg (nil: not
// registered).
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_sign_ins_total",
			Help: "Password sign-ins by result: ok, invalid, disabled, throttled, unavailable (directory) or error.",
		}, []string{"result"}),
		locks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_sign_in_locks_total",
			Help: "Temporary sign-in locks, by scope: account or address.",
		}, []string{"scope"}),
	}
	for _, r := range []string{"ok", "invalid", "disabled", "throttled", "unavailable", "error"} {
		m.attempts.WithLabelValues(r)
	}
	for _, s := range []string{"account", "address"} {
		m.locks.WithLabelValues(s)
	}
	if reg != nil {
		reg.MustRegister(m.attempts, m.locks)
	}
	return m
}

func (m *metrics) attempt(result string) { m.attempts.WithLabelValues(result).Inc() }

func (m *metrics) lock(scope string) { m.locks.WithLabelValues(scope).Inc() }
