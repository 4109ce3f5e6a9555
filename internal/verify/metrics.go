package verify

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokend/tokend/api"
)

// Metrics are the verification path's Prometheus collectors.
type Metrics struct {
	results     map[api.Code]prometheus.Counter
	errors      prometheus.Counter
	latency     prometheus.Histogram
	cacheHits   prometheus.Counter
	cacheMisses prometheus.Counter
}

// NewMetrics creates the collectors and registers them with reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	byCode := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokend_verifications_total", Help: "Verifications by result code.",
	}, []string{"code"})
	m := &Metrics{
		results: make(map[api.Code]prometheus.Counter),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokend_verification_errors_total", Help: "Verifications that could not be decided.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tokend_verification_duration_seconds", Help: "Time to verify a token, in process.",
			Buckets: []float64{1e-6, 5e-6, 2e-5, 1e-4, 5e-4, 2e-3, 1e-2, 5e-2, 0.25, 1},
		}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokend_verify_cache_hits_total", Help: "Token lookups answered by the cache.",
		}),
		cacheMisses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokend_verify_cache_misses_total", Help: "Token lookups that went to the database.",
		}),
	}
	for _, c := range api.Codes {
		m.results[c] = byCode.WithLabelValues(string(c))
	}
	if reg != nil {
		reg.MustRegister(byCode, m.errors, m.latency, m.cacheHits, m.cacheMisses)
	}
	return m
}

func (m *Metrics) observe(code api.Code, err error, d time.Duration) {
	if err != nil {
		m.errors.Inc()
		return
	}
	m.results[code].Inc()
	m.latency.Observe(d.Seconds())
}
